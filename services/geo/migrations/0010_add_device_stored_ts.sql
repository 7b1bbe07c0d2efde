-- The event time of the newest fix stored of a device: a fix closer to it than the minimum interval
-- moves presence but is not stored, so a device's stored fixes grow with time, not with its upload
-- rate. Until now every fix applied was stored: the newest stored is the newest applied.
ALTER TABLE geo.devices ADD COLUMN stored_ts timestamptz;
UPDATE geo.devices SET stored_ts = last_ts;
