"""The message log and its delivery by Web Push: push subscriptions, VAPID keys, the sender. It knows no
feature that queues messages: each registers its delivery kinds (kinds.py) where the app is built."""
