"""What geo keeps about a device, for how long, its export and its erasure."""
