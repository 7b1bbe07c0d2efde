"""Push channels: how a decided message reaches a phone or a browser (Web Push, APNs, FCM)."""
