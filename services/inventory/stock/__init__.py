"""Stock levels per store and SKU: absolute and relative changes, the ledger, bulk imports, alternatives."""
