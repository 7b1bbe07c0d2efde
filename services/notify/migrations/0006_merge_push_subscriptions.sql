-- One store of push subscriptions for every recipient, a shopper's device or a staff member, in place
-- of one table each: one set of SQL, and the sender's cleanup deletes from one place. The recipient's
-- id is repeated in a generated column per kind, so that erasing a device or deleting a staff member
-- still takes its subscription with it.

ALTER TABLE notify.push_subscriptions RENAME TO device_push_subscriptions;
ALTER INDEX notify.push_subscriptions_pkey RENAME TO device_push_subscriptions_pkey;

CREATE TABLE notify.push_subscriptions (
    recipient_kind text NOT NULL CHECK (recipient_kind IN ('device', 'staff')),
    recipient_id   text NOT NULL,
    device_id      text GENERATED ALWAYS AS (CASE WHEN recipient_kind = 'device' THEN recipient_id END) STORED
                   REFERENCES notify.devices ON DELETE CASCADE,
    staff_id       text GENERATED ALWAYS AS (CASE WHEN recipient_kind = 'staff' THEN recipient_id END) STORED
                   REFERENCES notify.staff ON DELETE CASCADE,
    endpoint       text NOT NULL,
    p256dh         text NOT NULL,
    auth           text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (recipient_kind, recipient_id)
);

-- What the cascades look up.
CREATE INDEX push_subscriptions_device ON notify.push_subscriptions (device_id) WHERE device_id IS NOT NULL;
CREATE INDEX push_subscriptions_staff ON notify.push_subscriptions (staff_id) WHERE staff_id IS NOT NULL;

INSERT INTO notify.push_subscriptions (recipient_kind, recipient_id, endpoint, p256dh, auth, created_at, updated_at)
SELECT 'device', device_id, endpoint, p256dh, auth, created_at, updated_at FROM notify.device_push_subscriptions
UNION ALL
SELECT 'staff', staff_id, endpoint, p256dh, auth, created_at, updated_at FROM notify.staff_push_subscriptions;

DROP TABLE notify.device_push_subscriptions;
DROP TABLE notify.staff_push_subscriptions;
