-- Tokens are revoked by id now (shared/revocation.py): a token's `jti` (a rotated device token) or its
-- `rev`, a keyed hash of its subject that all the subject's tokens carry (an erased device, a removed
-- staff member). Neither names anyone. Each entry expires when the tokens it revokes would have, so
-- the list no longer only grows; `recorded_at` lets a process that lost its LISTEN connection load only
-- what it may have missed.
--
-- Tokens signed before this version (HS256, one key for all) are refused whatever the list says: the
-- old lists revoke nothing any more.
CREATE TABLE bus.revoked_tokens (
    revocation_id text PRIMARY KEY,
    recorded_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX revoked_tokens_recorded_at ON bus.revoked_tokens (recorded_at);
CREATE INDEX revoked_tokens_expires_at ON bus.revoked_tokens (expires_at);

DROP TABLE bus.revoked_digests;
DROP TABLE bus.revoked_subjects;
