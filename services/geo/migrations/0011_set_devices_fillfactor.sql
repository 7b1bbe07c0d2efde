-- Every upload rewrites its device's row (cursor, request budget, evidence). With room left on the
-- page the new version stays there (a heap-only tuple): no new primary-key entry and less WAL per
-- upload. On full pages, half of a cold fleet's updates went elsewhere. Pages written from now on
-- keep 30 % free; a row on a page already full moves to one with room at its next update.
ALTER TABLE geo.devices SET (fillfactor = 70);
