-- Contactless pickup: store staff, their push subscriptions, and the alerts they get as a shopper
-- drives in; Web Push messages to staff travel through notify.messages like the shoppers' do.

CREATE TABLE notify.staff (
    staff_id   text PRIMARY KEY,
    store_id   text NOT NULL,
    name       text NOT NULL,
    locale     text NOT NULL,  -- the language their alerts are written in
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX staff_store ON notify.staff (store_id);

-- One subscription per staff member (the tablet or phone they enabled push on; a new one replaces it).
CREATE TABLE notify.staff_push_subscriptions (
    staff_id   text PRIMARY KEY REFERENCES notify.staff ON DELETE CASCADE,
    endpoint   text NOT NULL,
    p256dh     text NOT NULL,
    auth       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The position of every change to an alert in the stores' live streams (the SSE id). A change takes
-- it under a transaction-level advisory lock held until commit, so positions become visible in
-- order: a stream that has seen position N has seen every change before it.
CREATE SEQUENCE notify.alert_seq;

-- One alert per trip and step (the unique key makes a redelivered trip event a no-op). The text is
-- written when read, in the reader's language, from these fields.
CREATE TABLE notify.alerts (
    alert_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id      text NOT NULL,
    trip_id       text NOT NULL,
    order_id      text,
    device_id     text,  -- the shopper's, so that erasing a device can find its alerts
    kind          text NOT NULL CHECK (kind IN ('approaching', 'arrived')),
    display_name  text,
    bay           text,
    mode          text,
    eta_s         integer,
    distance_m    double precision,
    event_id      bigint NOT NULL,
    at            timestamptz NOT NULL,  -- when geo saw it happen
    created_at    timestamptz NOT NULL DEFAULT now(),
    acked_by      text,
    acked_by_name text,
    acked_at      timestamptz,
    closed_at     timestamptz,
    outcome       text CHECK (outcome IN ('completed', 'canceled', 'expired')),
    created_seq   bigint NOT NULL,
    seq           bigint NOT NULL,  -- the latest change's position
    UNIQUE (trip_id, kind)
);

CREATE INDEX alerts_store ON notify.alerts (store_id, alert_id DESC);
CREATE INDEX alerts_store_seq ON notify.alerts (store_id, seq);

-- A message goes to a device (a shopper) or to a staff member; staff alerts are a purpose of their own.
ALTER TABLE notify.messages
    ALTER COLUMN device_id DROP NOT NULL,
    ADD COLUMN staff_id text,
    ADD COLUMN order_id text,
    ADD CONSTRAINT messages_one_recipient CHECK (num_nonnulls(device_id, staff_id) = 1),
    DROP CONSTRAINT messages_purpose_check,
    ADD CONSTRAINT messages_purpose_check CHECK (purpose IN ('offers', 'pickup_updates', 'staff_alerts'));

CREATE UNIQUE INDEX messages_staff_event ON notify.messages (event_id, staff_id) WHERE staff_id IS NOT NULL;
