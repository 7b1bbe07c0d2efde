-- Revoked tokens by a keyed hash of their subject, never the subject itself: an erased device's id
-- must not outlive its erasure, even on the list that goes on refusing its token. The key is derived
-- from ACCUEIL_TOKEN_KEY (shared/keys.py), which the migrations never hold: the services move the rows
-- of bus.revoked_subjects here, hashed, when they start (shared/revocation.py), then empty it.
CREATE TABLE bus.revoked_digests (
    digest     bytea PRIMARY KEY,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
