-- Erasure requests: each service confirms on the bus; the request stays visible until all have.
CREATE TABLE notify.erasures (
    erasure_id   text PRIMARY KEY,
    subject      text NOT NULL,          -- a keyed pseudonym of the device: answers a repeated request
    device_id    text,                   -- needed until every service confirmed, then forgotten
    pending      text[] NOT NULL,        -- services that have not confirmed yet
    requested_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);

CREATE INDEX erasures_subject ON notify.erasures (subject);
CREATE INDEX messages_decided_at ON notify.messages (decided_at);
