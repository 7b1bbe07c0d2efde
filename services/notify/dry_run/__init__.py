"""Dry runs: what a campaign would have done over the stored history, never sending anything."""
