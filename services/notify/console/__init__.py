"""The operator's console: stores and zones drawn to scale with live counts, campaigns and their
funnels, journeys with their steps, live counts and uplift, the latest decisions; one aggregate answer
gathered from geo, inventory and notify itself."""
