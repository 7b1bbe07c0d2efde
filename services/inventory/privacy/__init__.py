"""What inventory keeps about a shopper, for how long; its part of an erasure."""
