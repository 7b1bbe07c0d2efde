-- What an active trip is, said once for every query (services.geo.devices.progress.ACTIVE says the same for
-- the rules, and a test holds the two together). A plain SQL function is inlined by the planner, so the
-- partial indexes on active trips still serve the queries that use it.
CREATE FUNCTION geo.trip_is_active(status text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN status IN ('started', 'approaching', 'arrived');
