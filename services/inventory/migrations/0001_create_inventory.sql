-- Products and live stock per store and SKU. "Never oversell" is a constraint, not a Python if:
-- reserved can never exceed on_hand, and neither can go negative.

CREATE TABLE inventory.products (
    sku        text PRIMARY KEY,
    name       text NOT NULL,
    category   text NOT NULL,
    names      jsonb NOT NULL DEFAULT '{}'::jsonb,  -- locale -> localized name
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX products_category ON inventory.products (category);

CREATE TABLE inventory.stock (
    store_id   text NOT NULL,
    sku        text NOT NULL REFERENCES inventory.products,
    on_hand    integer NOT NULL CHECK (on_hand >= 0),
    reserved   integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, sku),
    CONSTRAINT reserved_within_on_hand CHECK (reserved <= on_hand)
);

-- Every change of on_hand, with who, when and why.
CREATE TABLE inventory.stock_ledger (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id   text NOT NULL,
    sku        text NOT NULL,
    before     integer NOT NULL,
    after      integer NOT NULL,
    reason     text NOT NULL,
    actor      text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX stock_ledger_item ON inventory.stock_ledger (store_id, sku, id);
