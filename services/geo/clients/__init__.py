"""Real location clients (the OwnTracks app, background-geolocation SDKs) in their own wire formats."""
