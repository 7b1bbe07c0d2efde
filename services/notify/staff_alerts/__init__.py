"""Store staff, their pickup alerts and the shopper's pickup updates: the live stream, Web Push, and the
staff page."""
