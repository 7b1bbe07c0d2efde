-- Campaigns that can be paused, scheduled and ended; what shoppers' devices report about the offers
-- they were shown; notify's own record of pickup orders (from inventory's order.reserved) to attribute
-- them to offers; and the stores' time zones (from geo's store.changed), so hours are the store's.

ALTER TABLE notify.campaigns
    ADD COLUMN schedule jsonb,          -- {"starts_at"?, "ends_at"?, "hours"?: [{"days", "from", "to"}]}
    ADD COLUMN ended_at timestamptz;    -- set once by DELETE: the row and its messages stay

-- Newest event wins, as for the stock replica.
CREATE TABLE notify.stores (
    store_id   text PRIMARY KEY,
    timezone   text NOT NULL,
    event_id   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Each type once per message; they go with the message (erasure, retention) by cascade.
CREATE TABLE notify.message_events (
    message_id  bigint NOT NULL REFERENCES notify.messages ON DELETE CASCADE,
    type        text NOT NULL CHECK (type IN ('shown', 'clicked', 'dismissed')),
    ts          timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, type)
);

CREATE TABLE notify.orders (
    order_id  text PRIMARY KEY,
    device_id text NOT NULL,
    store_id  text NOT NULL,
    placed_at timestamptz NOT NULL,
    event_id  bigint NOT NULL
);

CREATE INDEX orders_device_store ON notify.orders (device_id, store_id, placed_at);

CREATE TABLE notify.order_lines (
    order_id text NOT NULL REFERENCES notify.orders ON DELETE CASCADE,
    sku      text NOT NULL,
    qty      integer NOT NULL,
    PRIMARY KEY (order_id, sku)
);

-- Results are computed per campaign over its messages.
CREATE INDEX messages_campaign ON notify.messages (campaign_id, decided_at) WHERE campaign_id <> '';
