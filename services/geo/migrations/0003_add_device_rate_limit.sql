-- Each device's request budget (a token bucket), kept with its row lock so no replica can be used
-- to get around it.
ALTER TABLE geo.devices
    ADD COLUMN rate_tokens real NOT NULL DEFAULT 0,
    ADD COLUMN rate_at     timestamptz;
