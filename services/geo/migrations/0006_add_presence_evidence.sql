-- Presence needs evidence over time: a visit remembers the run of fixes seen beyond its exit buffer;
-- a device, the entries waiting for evidence and the trail of its last fixes (its pace), as
-- {"entries": [...], "trail": [...]}.
ALTER TABLE geo.visits
    ADD COLUMN outside_since timestamptz,
    ADD COLUMN outside_fixes integer NOT NULL DEFAULT 0;

ALTER TABLE geo.devices ADD COLUMN evidence jsonb;
