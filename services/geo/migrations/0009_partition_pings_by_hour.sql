-- Raw pings partitioned by the hour of ts (UTC), so that retention drops an hour of pings whole
-- instead of deleting them row by row (at 20,000 pings/s, 1.7 billion deletes a day, and as much to
-- vacuum). The partitions are kept by geo itself (services/geo/privacy/partitions.py: created ahead
-- at startup and every 10 minutes, dropped once their whole hour is past the retention): pg_partman
-- is not among the embedded server's extensions.
--
-- No DEFAULT partition. Every accepted ping has its partition already (the accepted window is
-- bounded: devices.service.screen_time), so a default would only ever catch what should not be
-- there, and it would cost: DETACH PARTITION ... CONCURRENTLY is refused on a table that has one, so
-- every retirement would lock out inserts; each new partition would have to scan it; and a single
-- row left in it for an hour would make creating that hour's partition fail.
--
-- The rows are kept: each hour that holds some gets its partition, and so do the hours from a day
-- back (the default retention) to six hours ahead, so that pings are accepted between this migration
-- and geo's start (which adds what its own retention needs).

ALTER TABLE geo.pings RENAME TO pings_unpartitioned;
ALTER TABLE geo.pings_unpartitioned RENAME CONSTRAINT pings_pkey TO pings_unpartitioned_pkey;
DROP INDEX geo.pings_ts;  -- retention needs no index on ts now; reads by device use the primary key

-- The primary key must hold the partition key; (device_id, ts) already does, so a duplicate ping is
-- still a no-op (ON CONFLICT (device_id, ts) DO NOTHING) within its partition, that is everywhere.
CREATE TABLE geo.pings (
    device_id   text NOT NULL,
    ts          timestamptz NOT NULL,
    lat         double precision NOT NULL,
    lng         double precision NOT NULL,
    accuracy_m  real NOT NULL,
    speed_mps   real,
    heading     real,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, ts)
) PARTITION BY RANGE (ts);

DO $$
DECLARE
    hour timestamptz;
BEGIN
    FOR hour IN
        SELECT date_trunc('hour', ts, 'UTC') FROM geo.pings_unpartitioned
        UNION
        SELECT generate_series(date_trunc('hour', now(), 'UTC') - interval '24 hours',
                               date_trunc('hour', now(), 'UTC') + interval '6 hours',
                               interval '1 hour')
        ORDER BY 1
    LOOP
        -- Named as privacy/partitions.py name_of does: pings_pYYYYMMDDHH, the hour in UTC.
        EXECUTE format(
            'CREATE TABLE geo.%I PARTITION OF geo.pings FOR VALUES FROM (%L) TO (%L)',
            'pings_p' || to_char(hour AT TIME ZONE 'UTC', 'YYYYMMDDHH24'),
            hour,
            hour + interval '1 hour'
        );
    END LOOP;
END
$$;

INSERT INTO geo.pings (device_id, ts, lat, lng, accuracy_m, speed_mps, heading, received_at)
SELECT device_id, ts, lat, lng, accuracy_m, speed_mps, heading, received_at
FROM geo.pings_unpartitioned;

DROP TABLE geo.pings_unpartitioned;
