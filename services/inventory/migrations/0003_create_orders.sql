-- Pickup orders. The stock they hold is inventory.stock.reserved; an order's lines say how much of
-- it is theirs. Moves between statuses are conditional updates on `status`, so two staff members
-- (or staff and the expiry job) racing on one order move it once.

CREATE TABLE inventory.orders (
    order_id        text PRIMARY KEY,
    device_id       text NOT NULL,
    store_id        text NOT NULL,
    status          text NOT NULL CHECK (status IN ('reserved', 'ready', 'collected', 'canceled')),
    -- The only personal datum an order carries: the name the shopper chose to be called by.
    display_name    text CHECK (char_length(display_name) BETWEEN 1 AND 40),
    -- A retried POST with the same key returns the same order; keys belong to their device.
    idempotency_key text,
    created_at      timestamptz NOT NULL,
    ready_at        timestamptz,
    collected_at    timestamptz,
    canceled_at     timestamptz,
    cancel_reason   text,
    CONSTRAINT orders_idempotency UNIQUE (device_id, idempotency_key),
    CONSTRAINT ready_has_time CHECK (status NOT IN ('ready', 'collected') OR ready_at IS NOT NULL),
    CONSTRAINT collected_has_time CHECK ((status = 'collected') = (collected_at IS NOT NULL)),
    CONSTRAINT canceled_has_time CHECK ((status = 'canceled') = (canceled_at IS NOT NULL))
);

CREATE INDEX orders_store ON inventory.orders (store_id, status, created_at);
CREATE INDEX orders_device ON inventory.orders (device_id, created_at);
-- What the expiry job scans: only orders still holding stock.
CREATE INDEX orders_ready_since ON inventory.orders (ready_at) WHERE status = 'ready';
CREATE INDEX orders_reserved_since ON inventory.orders (created_at) WHERE status = 'reserved';
-- What the display-name retention job scans: ended orders that still carry a name.
CREATE INDEX orders_named_ended ON inventory.orders ((coalesce(collected_at, canceled_at)))
    WHERE display_name IS NOT NULL AND status IN ('collected', 'canceled');

CREATE TABLE inventory.order_lines (
    order_id text NOT NULL REFERENCES inventory.orders ON DELETE CASCADE,
    sku      text NOT NULL REFERENCES inventory.products,
    qty      integer NOT NULL CHECK (qty > 0),
    PRIMARY KEY (order_id, sku)
);

-- Every reservation, release and sale updates a stock row: leave room on each page so those updates
-- can stay on the page (HOT) instead of adding index entries each time.
ALTER TABLE inventory.stock SET (fillfactor = 80);
