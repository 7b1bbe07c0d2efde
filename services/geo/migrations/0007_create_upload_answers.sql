-- What each upload caused, by the upload's fingerprint: a retried upload (its first answer lost) is
-- answered with the same events, dwell timers and beacon exits included. Kept as long as raw pings.
CREATE TABLE geo.upload_answers (
    device_id   text NOT NULL,
    fingerprint bytea NOT NULL,
    event_ids   bigint[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, fingerprint)
);

CREATE INDEX upload_answers_created_at ON geo.upload_answers (created_at);
