-- A recipient's push target is a Web Push subscription or, for a native app, an APNs or FCM device
-- token: still one per recipient (a new one of any kind replaces the last), so the sender finds it
-- the same way whatever the channel. `address` is the subscription's endpoint or the device token.

ALTER TABLE notify.push_subscriptions RENAME TO push_targets;
ALTER INDEX notify.push_subscriptions_pkey RENAME TO push_targets_pkey;
ALTER INDEX notify.push_subscriptions_device RENAME TO push_targets_device;
ALTER INDEX notify.push_subscriptions_staff RENAME TO push_targets_staff;
ALTER TABLE notify.push_targets RENAME COLUMN endpoint TO address;

ALTER TABLE notify.push_targets
    ADD COLUMN provider text NOT NULL DEFAULT 'webpush' CHECK (provider IN ('webpush', 'apns', 'fcm')),
    ADD COLUMN environment text CHECK (environment IN ('production', 'sandbox')),
    ALTER COLUMN p256dh DROP NOT NULL,
    ALTER COLUMN auth DROP NOT NULL;
ALTER TABLE notify.push_targets ALTER COLUMN provider DROP DEFAULT;

-- Keys for Web Push only; an environment for APNs only.
ALTER TABLE notify.push_targets ADD CONSTRAINT push_targets_shape CHECK (
    CASE provider
        WHEN 'webpush' THEN p256dh IS NOT NULL AND auth IS NOT NULL AND environment IS NULL
        WHEN 'apns' THEN p256dh IS NULL AND auth IS NULL AND environment IS NOT NULL
        ELSE p256dh IS NULL AND auth IS NULL AND environment IS NULL
    END
);
