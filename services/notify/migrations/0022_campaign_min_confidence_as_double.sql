-- A campaign's minimum confidence was a `real`: 0.99 came back as 0.9900000095367432, so a campaign
-- read back (GET, or the PUT's answer) was not what the operator wrote. A double holds what JSON
-- carries; the values stored as real are rounded to the six digits a real keeps.
ALTER TABLE notify.campaigns
    ALTER COLUMN min_confidence TYPE double precision USING round(min_confidence::numeric, 6)::double precision;
