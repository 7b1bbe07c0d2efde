-- When a consumer's service last ran it: a consumer no service runs any more stops pinning events in
-- the log (bus.purge forgets it, and its waiting deliveries, after the event retention).
ALTER TABLE bus.subscriptions ADD COLUMN seen_at timestamptz NOT NULL DEFAULT now();
