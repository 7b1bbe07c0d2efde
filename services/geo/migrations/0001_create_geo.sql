-- Stores, their zones, what geo knows of each device (consent, presence cursor, open visits), raw pings.

CREATE TABLE geo.stores (
    store_id   text PRIMARY KEY,
    name       text NOT NULL,
    lat        double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng        double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
    timezone   text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE geo.zones (
    store_id   text NOT NULL REFERENCES geo.stores ON DELETE CASCADE,
    zone_id    text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('store', 'pickup', 'department', 'approach')),
    name       text,
    dwell_s    integer CHECK (dwell_s > 0),
    shape      jsonb NOT NULL,  -- {"circle": {...}} or {"polygon": GeoJSON}, as the operator sent it
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, zone_id)
);

-- The device's location consent, as last published by notify (consent.changed events).
CREATE TABLE geo.device_consents (
    device_id  text PRIMARY KEY,
    location   boolean NOT NULL,
    event_id   bigint NOT NULL,  -- the consent event applied: an older one arriving late is ignored
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per device that ever sent a usable ping: its event-time cursor. Locked for the length of
-- a batch, so two geo processes never apply pings of the same device at the same time.
CREATE TABLE geo.devices (
    device_id text PRIMARY KEY,
    last_ts   timestamptz
);

CREATE TABLE geo.visits (
    device_id      text NOT NULL REFERENCES geo.devices ON DELETE CASCADE,
    store_id       text NOT NULL,
    zone_id        text NOT NULL,
    entered_at     timestamptz NOT NULL,
    last_inside_at timestamptz NOT NULL,
    dwelled        boolean NOT NULL DEFAULT false,
    PRIMARY KEY (device_id, store_id, zone_id)
);

CREATE INDEX visits_zone ON geo.visits (store_id, zone_id);

-- Raw pings: short retention. The primary key makes an exact duplicate a no-op.
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
);

CREATE INDEX pings_received_at ON geo.pings (received_at);
