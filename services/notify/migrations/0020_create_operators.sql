-- Operators: the people who run accueil, by email (stored in lower case by notify: an address is compared
-- without regard to case), with their role; a store manager's stores. Their tokens are signed by notify after
-- single sign-on and carry the role; removing an operator revokes them (bus.revoked_tokens).
CREATE TABLE notify.operators (
    email      text PRIMARY KEY CHECK (length(email) BETWEEN 3 AND 254),
    role       text NOT NULL CHECK (role IN ('admin', 'marketer', 'store_manager')),
    stores     text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'store_manager') = (cardinality(stores) > 0))
);

-- The console's sessions after single sign-on. Only a hash of the session id is kept: the cookie is the
-- secret, and a copy of this table opens no session. A removed operator's sessions go with them.
CREATE TABLE notify.console_sessions (
    session_hash bytea PRIMARY KEY,
    email        text NOT NULL REFERENCES notify.operators (email) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_email ON notify.console_sessions (email);
CREATE INDEX console_sessions_expires_at ON notify.console_sessions (expires_at);
