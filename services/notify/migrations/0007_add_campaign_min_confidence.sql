-- A campaign may ask for presence it can trust: events less confident than this make no offer.
ALTER TABLE notify.campaigns ADD COLUMN min_confidence real CHECK (min_confidence BETWEEN 0 AND 1);
