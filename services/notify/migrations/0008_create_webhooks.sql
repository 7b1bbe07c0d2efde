-- Outbound webhooks (Standard Webhooks): the registrations, one delivery per (webhook, event) and the
-- log of every attempt.
CREATE TABLE notify.webhooks (
    webhook_id text PRIMARY KEY,
    url text NOT NULL,
    events text[] NOT NULL,
    secret text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notify.webhook_deliveries (
    id bigserial PRIMARY KEY,
    webhook_id text NOT NULL REFERENCES notify.webhooks ON DELETE CASCADE,
    event_id bigint NOT NULL,
    event_type text NOT NULL,
    event_ts timestamptz NOT NULL,
    device_id text,
    -- The exact body sent on every attempt; cleared once delivered or given up.
    payload text,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON notify.webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_open ON notify.webhook_deliveries (webhook_id, device_id, event_id)
    WHERE status IN ('pending', 'sending');
CREATE INDEX webhook_deliveries_device ON notify.webhook_deliveries (device_id);

CREATE TABLE notify.webhook_attempts (
    id bigserial PRIMARY KEY,
    webhook_id text NOT NULL REFERENCES notify.webhooks ON DELETE CASCADE,
    event_id bigint NOT NULL,
    device_id text,
    attempt int NOT NULL,
    status_code int,
    error text,
    at timestamptz NOT NULL DEFAULT now(),
    next_retry_at timestamptz
);
CREATE INDEX webhook_attempts_of ON notify.webhook_attempts (webhook_id, id);
CREATE INDEX webhook_attempts_device ON notify.webhook_attempts (device_id);
