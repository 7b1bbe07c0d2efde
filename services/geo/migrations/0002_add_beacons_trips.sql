-- Beacons, the state the presence machine needs between batches, and pickup trips.

CREATE TABLE geo.beacons (
    store_id   text NOT NULL,
    beacon_id  text NOT NULL,
    zone_id    text NOT NULL,
    -- The identity a phone reports: "ibeacon:<uuid>:<major>:<minor>" or "eddystone:<namespace>:<instance>",
    -- lower-case hex; unique, so one sighting means one zone.
    identity   text NOT NULL UNIQUE,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, beacon_id),
    FOREIGN KEY (store_id, zone_id) REFERENCES geo.zones ON DELETE CASCADE
);

ALTER TABLE geo.devices
    ADD COLUMN last_fix      jsonb,        -- the newest plausible fix: anchor of the speed check
    ADD COLUMN outlier       jsonb,        -- a fix refused as implausible, kept to re-anchor on a real jump
    ADD COLUMN suspicious_at timestamptz;

ALTER TABLE geo.visits
    ADD COLUMN confidence     real NOT NULL DEFAULT 1,
    ADD COLUMN via            text NOT NULL DEFAULT 'gps' CHECK (via IN ('gps', 'beacon')),
    ADD COLUMN beacon_seen_at timestamptz;

-- Visits whose timers may be due: dwell not yet fired, or kept alive by beacons.
CREATE INDEX visits_timers ON geo.visits (device_id) WHERE NOT dwelled OR via = 'beacon';

CREATE TABLE geo.trips (
    trip_id        text PRIMARY KEY,
    device_id      text NOT NULL,
    order_id       text NOT NULL,
    store_id       text NOT NULL REFERENCES geo.stores,
    mode           text NOT NULL CHECK (mode IN ('car', 'foot', 'bike')),
    status         text NOT NULL CHECK (status IN ('started', 'approaching', 'arrived', 'completed', 'canceled', 'expired')),
    display_name   text,          -- the name the shopper gave the order, for the staff alert
    target_lat     double precision NOT NULL,
    target_lng     double precision NOT NULL,
    distance_m     real,
    eta_s          integer,
    started_at     timestamptz NOT NULL DEFAULT now(),
    approaching_at timestamptz,
    arrived_at     timestamptz,
    ended_at       timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One active trip per order, however often the app retries "I'm on my way".
CREATE UNIQUE INDEX trips_one_active_per_order ON geo.trips (order_id)
    WHERE status IN ('started', 'approaching', 'arrived');
CREATE INDEX trips_active_by_device ON geo.trips (device_id) WHERE status IN ('started', 'approaching', 'arrived');
CREATE INDEX trips_active_by_store ON geo.trips (store_id) WHERE status IN ('started', 'approaching', 'arrived');

-- Retention deletes by event time.
DROP INDEX geo.pings_received_at;
CREATE INDEX pings_ts ON geo.pings (ts);
