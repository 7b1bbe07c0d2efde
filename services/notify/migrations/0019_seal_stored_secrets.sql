-- The generated VAPID private key and the webhook secrets are stored sealed (AES-256-GCM, shared/sealed.py)
-- in new bytea columns. The migration cannot seal what is already stored: it never holds the key. So the
-- plain columns stay, nullable: notify seals what they hold when it starts (and on a schedule, for a row
-- written by a replica of the previous version during the rollout) and empties them. A later migration
-- drops them, once no replica of a version before this one can run.

ALTER TABLE notify.vapid_keys ADD COLUMN sealed_private_key bytea;
ALTER TABLE notify.vapid_keys ALTER COLUMN private_key DROP NOT NULL;
ALTER TABLE notify.vapid_keys ADD CONSTRAINT vapid_keys_private_key_kept
    CHECK (sealed_private_key IS NOT NULL OR private_key IS NOT NULL);

ALTER TABLE notify.webhooks ADD COLUMN sealed_secret bytea;
ALTER TABLE notify.webhooks ALTER COLUMN secret DROP NOT NULL;
ALTER TABLE notify.webhooks ADD CONSTRAINT webhooks_secret_kept
    CHECK (sealed_secret IS NOT NULL OR secret IS NOT NULL);
