"""Where each device is: pings and beacon sightings through the presence state machine, under its row lock."""
