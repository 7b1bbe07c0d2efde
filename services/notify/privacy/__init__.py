"""A person's rights over their data: export, erasure everywhere, the privacy notice, retention."""
