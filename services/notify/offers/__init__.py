"""Campaigns, the offers decided from them as shoppers walk in, held offers released after quiet hours,
and the record of pickup orders their results attribute."""
