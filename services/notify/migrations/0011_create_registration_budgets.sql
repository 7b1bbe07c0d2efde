-- Registrations per client address and hour: anyone may register a device, not a thousand an hour
-- from one address. The address is kept only as a keyed hash, and only for the hour it counts in.
CREATE TABLE notify.registration_budgets (
    address_key  bytea PRIMARY KEY,
    window_start timestamptz NOT NULL,
    used         integer NOT NULL
);
