"""Campaigns, the offers decided from them as shoppers walk in, and notify's replica of the stock."""
