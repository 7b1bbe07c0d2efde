-- The store zones last sent to a device's OwnTracks app (a digest of the waypoint set): the set is
-- sent again only when it changes. Erased with the device's row.
ALTER TABLE geo.devices ADD COLUMN waypoints_digest bytea;
