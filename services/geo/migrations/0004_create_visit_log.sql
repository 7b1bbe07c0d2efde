-- Closed visits, kept in coarse form only (a zone, a store, the times: no coordinates) for the
-- history retention period, for the shopper's export and the store's footfall.
CREATE TABLE geo.visit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id  text NOT NULL,
    store_id   text NOT NULL,
    zone_id    text NOT NULL,
    kind       text NOT NULL,
    via        text NOT NULL,
    entered_at timestamptz NOT NULL,
    exited_at  timestamptz NOT NULL
);

CREATE INDEX visit_log_device ON geo.visit_log (device_id, id);
CREATE INDEX visit_log_exited_at ON geo.visit_log (exited_at);
CREATE INDEX trips_device ON geo.trips (device_id);
CREATE INDEX trips_ended_at ON geo.trips (ended_at) WHERE ended_at IS NOT NULL;
