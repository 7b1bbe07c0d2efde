-- The audit log: every change made by an operator or the admin token, in any of the three services,
-- with the call and the resource before and after (secrets redacted before they leave the service).
-- Each service publishes `audit.recorded` in the transaction of the change; notify's consumer copies it
-- here. Owned by services/notify/audit/; kept ACCUEIL_AUDIT_RETENTION_DAYS.
CREATE TABLE notify.audit_log (
    id       bigserial PRIMARY KEY,
    event_id bigint NOT NULL UNIQUE,  -- the bus event it came from: copied once
    at       timestamptz NOT NULL,    -- when the change was made
    actor    text NOT NULL,           -- `admin`, or the operator's email
    action   text NOT NULL,           -- `PUT /v1/campaigns/welcome`
    before   jsonb,
    after    jsonb,
    -- A reader paging by id never skips an entry whose transaction is still committing (as the event feed).
    txid     xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX audit_log_at ON notify.audit_log (at);
