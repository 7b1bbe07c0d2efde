"""A device, as geo knows it: its location consent, where it is (the presence cursor and open visits), the
visits it closed, its pickup trips, its raw pings. One aggregate: every change to a device goes through
unit_of_work.locked_devices, under the device's row lock, and only repository.py writes its tables.
The trip use cases (trips/) build on it; nothing here imports them."""
