-- Why a message came, in plain words (French and English), recorded when it is decided and shown to
-- the shopper in their message log and push payload; and the names those words need: each store's
-- name (from geo's store.changed, with its time zone) and the zone a journey was entered in.

-- {"fr": "...", "en": "..."}; null for a suppressed message (nothing was said) and for messages
-- decided before this column existed. It goes with the message (erasure, retention).
ALTER TABLE notify.messages ADD COLUMN why jsonb;

-- The store's name as of the same event as its time zone. A store last changed before this column
-- existed takes its name from its latest store.changed still on the bus; one older than the bus's
-- retention stays unnamed (its id stands for it) until its next change.
ALTER TABLE notify.stores ADD COLUMN name text;
UPDATE notify.stores s
SET name = e.data ->> 'name'
FROM bus.events e
WHERE e.id = s.event_id AND e.type = 'store.changed';

-- Where a journey was entered, when it was a zone: its steps' messages say so.
ALTER TABLE notify.enrollments
    ADD COLUMN zone_id   text,
    ADD COLUMN zone_kind text,
    ADD COLUMN zone_name text;
