-- A native token the push service no longer knows (APNs 410 or a token error, FCM UNREGISTERED) is an
-- attempt outcome of its own, `unregistered`, beside Web Push's `gone`: 0013 let a target be an APNs
-- or FCM token but left this check as it was, so recording such an answer failed and the message
-- stayed `sending` until its lease ran out.

ALTER TABLE notify.delivery_attempts DROP CONSTRAINT delivery_attempts_outcome_check;
ALTER TABLE notify.delivery_attempts ADD CONSTRAINT delivery_attempts_outcome_check CHECK (
    outcome IN ('accepted', 'gone', 'unregistered', 'unavailable', 'no_answer', 'rejected', 'refused', 'interrupted')
);
