"""Products: what each SKU is called, in which category, and when its stock counts as low."""
