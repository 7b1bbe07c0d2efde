-- notify's own replica of what it needs from inventory to decide offers, so that no decision calls
-- inventory: the available stock per store and SKU, and the products to rank alternatives among.
-- Fed by inventory's stock.changed and product.changed events (consumer notify.stock_replica); each
-- row keeps the id of the event it is as of, and an older event never overwrites a newer one.

CREATE TABLE notify.products (
    sku        text PRIMARY KEY,
    name       text NOT NULL,
    category   text NOT NULL,
    names      jsonb NOT NULL DEFAULT '{}'::jsonb,  -- language -> name
    event_id   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX products_category ON notify.products (category);

CREATE TABLE notify.stock (
    store_id   text NOT NULL,
    sku        text NOT NULL,
    available  integer NOT NULL,  -- on hand minus reserved: what the store can hand over
    on_hand    integer NOT NULL,
    event_id   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, sku)
);

CREATE INDEX stock_available ON notify.stock (store_id) WHERE available > 0;

-- Seeded from what inventory already published, and subscribed in the same transaction, so that no
-- event falls between the two: publishers wait (the lock conflicts with their inserts) until this
-- commits, then fan their events out to the new subscription. Events delivered again after the seed
-- are older than or as old as the rows, and change nothing.
LOCK TABLE bus.events IN SHARE MODE;

INSERT INTO bus.subscriptions (consumer, types)
VALUES ('notify.stock_replica', ARRAY['stock.changed', 'product.changed'])
ON CONFLICT (consumer) DO UPDATE SET types = excluded.types;

INSERT INTO notify.stock (store_id, sku, available, on_hand, event_id)
SELECT DISTINCT ON (store_id, data ->> 'sku')
       store_id, data ->> 'sku', (data ->> 'after')::integer, (data ->> 'on_hand')::integer, id
FROM bus.events
WHERE source = 'inventory' AND type = 'stock.changed' AND store_id IS NOT NULL
ORDER BY store_id, data ->> 'sku', id DESC;

INSERT INTO notify.products (sku, name, category, names, event_id)
SELECT DISTINCT ON (data ->> 'sku')
       data ->> 'sku', data ->> 'name', data ->> 'category', coalesce(data -> 'names', '{}'::jsonb), id
FROM bus.events
WHERE source = 'inventory' AND type = 'product.changed'
ORDER BY data ->> 'sku', id DESC;
