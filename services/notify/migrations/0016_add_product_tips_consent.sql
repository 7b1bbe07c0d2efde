-- A purpose of its own: advice on a product the shopper collected. Opt-in like the others: a device
-- that never answered has not given it (a constant default: no table rewrite).
ALTER TABLE notify.consents
    ADD COLUMN product_tips boolean NOT NULL DEFAULT false;

-- Messages of that purpose are decided and logged like the others.
ALTER TABLE notify.messages
    DROP CONSTRAINT messages_purpose_check,
    ADD CONSTRAINT messages_purpose_check
        CHECK (purpose IN ('offers', 'pickup_updates', 'staff_alerts', 'back_in_stock', 'product_tips'));
