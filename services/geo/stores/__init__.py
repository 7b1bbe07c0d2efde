"""The operator's stores over HTTP: setting up stores, their zones and beacons, and how many devices are
in each zone. Above devices: deleting a zone ends the visits inside it through the devices' own unit of
work. The tables, their SQL, their wire format and the index are zones'."""
