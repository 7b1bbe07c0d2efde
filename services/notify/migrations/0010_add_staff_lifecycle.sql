-- A staff member who leaves is marked removed (their row stays: past alerts name them, the employer's
-- record); their tokens are revoked through bus.revoked_subjects.
ALTER TABLE notify.staff ADD COLUMN removed_at timestamptz;

-- Alert-stream tickets already used: each opens one stream, on any replica. Kept until it expires.
CREATE TABLE notify.used_stream_tickets (
    jti        text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX used_stream_tickets_expiry ON notify.used_stream_tickets (expires_at);
