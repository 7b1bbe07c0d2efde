-- Back-in-stock requests: a shopper who found a product unavailable at a store asks to be told, once,
-- when it is back. The request is the purpose of that one message, so it is kept with its proof as a
-- consent is: when it was made, the text the shopper was shown, the policy version and the client's
-- user agent (never an address).

CREATE TABLE notify.back_in_stock_requests (
    request_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id      text NOT NULL REFERENCES notify.devices ON DELETE CASCADE,
    store_id       text NOT NULL,
    sku            text NOT NULL,
    -- open: waiting for the stock; answered: its message is on its way or was said; withdrawn: DELETE;
    -- lapsed: not answered within the days the shopper was told
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'withdrawn', 'lapsed')),
    requested_at   timestamptz NOT NULL DEFAULT now(),
    lapses_at      timestamptz NOT NULL,
    ended_at       timestamptz,
    shown          text,
    policy_version text,
    user_agent     text,
    CHECK ((status = 'open') = (ended_at IS NULL))
);

-- PUT twice is one request: at most one open per device, store and product.
CREATE UNIQUE INDEX back_in_stock_open ON notify.back_in_stock_requests (device_id, store_id, sku)
    WHERE status = 'open';
-- What stock.back_in_stock looks up, and what the lapse job scans.
CREATE INDEX back_in_stock_waiting ON notify.back_in_stock_requests (store_id, sku) WHERE status = 'open';
CREATE INDEX back_in_stock_lapsing ON notify.back_in_stock_requests (lapses_at) WHERE status = 'open';
CREATE INDEX back_in_stock_ended ON notify.back_in_stock_requests (ended_at) WHERE status <> 'open';

-- The message answering a request names it. At most one message that is or may be said per request:
-- a replayed event, a second replica or a retried delivery cannot queue a second one. A message
-- dropped (suppressed) because the stock was gone again when it was due leaves room for the next.
ALTER TABLE notify.messages
    ADD COLUMN request_id bigint,
    DROP CONSTRAINT messages_purpose_check,
    ADD CONSTRAINT messages_purpose_check
        CHECK (purpose IN ('offers', 'pickup_updates', 'staff_alerts', 'back_in_stock'));

CREATE UNIQUE INDEX messages_request ON notify.messages (request_id)
    WHERE request_id IS NOT NULL AND status <> 'suppressed';
