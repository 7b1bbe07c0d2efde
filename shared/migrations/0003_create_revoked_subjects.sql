-- Tokens that must no longer work, by subject (an erased device): every process keeps this set in
-- memory, loaded at start and updated through LISTEN accueil_revoked.
CREATE TABLE bus.revoked_subjects (
    subject    text PRIMARY KEY,
    revoked_at timestamptz NOT NULL DEFAULT now()
);

-- Retention of the event log scans by age.
CREATE INDEX events_created_at ON bus.events (created_at);
