-- Devices, their consents with proof, campaigns, and every message decision.

CREATE TABLE notify.devices (
    device_id  text PRIMARY KEY,
    platform   text NOT NULL CHECK (platform IN ('web', 'ios', 'android')),
    locale     text NOT NULL,
    timezone   text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Current consent per purpose: absent means not given.
CREATE TABLE notify.consents (
    device_id      text PRIMARY KEY REFERENCES notify.devices ON DELETE CASCADE,
    location       boolean NOT NULL DEFAULT false,
    pickup_updates boolean NOT NULL DEFAULT false,
    offers         boolean NOT NULL DEFAULT false,
    policy_version text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Every consent change, with its proof: when, which policy, what was answered, from which client.
-- Never a raw IP address.
CREATE TABLE notify.consent_history (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id      text NOT NULL,
    policy_version text NOT NULL,
    purposes       jsonb NOT NULL,
    shown          text,
    user_agent     text,
    at             timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX consent_history_device ON notify.consent_history (device_id, id);

CREATE TABLE notify.campaigns (
    campaign_id  text PRIMARY KEY,
    trigger_type text NOT NULL CHECK (trigger_type IN ('zone.entered', 'zone.dwelled')),
    zone_kind    text,
    zone_id      text,
    store_id     text,
    sku          text NOT NULL,
    message      jsonb NOT NULL,  -- locale -> {"title", "body"}
    active       boolean NOT NULL DEFAULT true,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX campaigns_trigger ON notify.campaigns (trigger_type) WHERE active;

-- One row per decision about one device, sent or not. The unique key makes a redelivered event
-- a no-op: at most one message per (event, device, campaign).
CREATE TABLE notify.messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   text NOT NULL,
    event_id    bigint NOT NULL,
    campaign_id text NOT NULL DEFAULT '',
    purpose     text NOT NULL CHECK (purpose IN ('offers', 'pickup_updates')),
    status      text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
    reason      text,
    store_id    text,
    sku         text,
    locale      text,
    title       text,
    body        text,
    decided_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, device_id, campaign_id)
);

CREATE INDEX messages_device ON notify.messages (device_id, id);
