-- The event bus: a transactional outbox that is also the durable, ordered event log.
-- A producer inserts its events in the same transaction as the state change that caused them;
-- one delivery row per subscribed consumer is written alongside, and consumers claim those rows
-- with FOR UPDATE SKIP LOCKED, so several replicas share the work and none sees a row twice.

CREATE TABLE bus.events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction: the feed only shows events whose transaction can no longer be
    -- in flight, so a reader paging with ?after=id never skips an event committed late.
    txid       xid8 NOT NULL DEFAULT pg_current_xact_id(),
    source     text NOT NULL,
    type       text NOT NULL,
    device_id  text,
    store_id   text,
    zone_id    text,
    trip_id    text,
    order_id   text,
    ts         timestamptz NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX events_source_id ON bus.events (source, id);
CREATE INDEX events_device_id ON bus.events (device_id, id) WHERE device_id IS NOT NULL;

CREATE TABLE bus.subscriptions (
    consumer text PRIMARY KEY,
    types    text[] NOT NULL
);

CREATE TABLE bus.deliveries (
    consumer     text NOT NULL REFERENCES bus.subscriptions ON DELETE CASCADE,
    event_id     bigint NOT NULL REFERENCES bus.events ON DELETE CASCADE,
    device_id    text,
    available_at timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    PRIMARY KEY (consumer, event_id)
);

CREATE INDEX deliveries_due ON bus.deliveries (consumer, available_at, event_id);
CREATE INDEX deliveries_device ON bus.deliveries (consumer, device_id) WHERE device_id IS NOT NULL;
