"""notify's replicas of what it needs from the other services, fed by their events: inventory's
available stock and products, geo's stores' time zones. Offers and back-in-stock read them here."""
