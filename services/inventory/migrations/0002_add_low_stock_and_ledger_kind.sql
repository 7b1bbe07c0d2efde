-- A per-product low-stock threshold (NULL: no low-stock events for that product), and what kind of
-- change each ledger line records, so a sale is never mistaken for a staff correction that happens
-- to give "sale" as its reason.

ALTER TABLE inventory.products
    ADD COLUMN low_stock_threshold integer CHECK (low_stock_threshold >= 0);

ALTER TABLE inventory.stock_ledger
    ADD COLUMN kind text NOT NULL DEFAULT 'set'
        CHECK (kind IN ('set', 'adjustment', 'import', 'sale')),
    ADD COLUMN order_id text;

ALTER TABLE inventory.stock_ledger ALTER COLUMN kind DROP DEFAULT;
