"""Store staff and their pickup alerts: the live stream, Web Push, and the staff page."""
