"""What may be said to whom: purposes, the recipient, the language, frequency caps and quiet hours.
Pure rules, no I/O; every feature that sends a message (offers, pickup updates, staff alerts,
back-in-stock) decides through them."""
