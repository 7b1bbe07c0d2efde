"""The message log and its delivery by Web Push: push subscriptions, VAPID keys, the sender."""
