"""Journeys: flows a device enters on an event and walks step by step, with a control arm."""
