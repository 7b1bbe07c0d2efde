"""What notify's routes, consumers and jobs receive."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from services.notify.offers.decide import Policy
from services.notify.outbox.endpoints import EndpointPolicy
from services.notify.outbox.sender import Sender
from services.notify.outbox.vapid import VapidKeys
from services.notify.settings import NotifySettings
from services.notify.staff_alerts.streams import AlertHub
from services.notify.webhooks.urls import WebhookHosts
from shared.context import Context


@dataclass(frozen=True, kw_only=True)
class NotifyContext(Context):
    config: NotifySettings
    policy: Policy
    """Caps and quiet hours, as configured."""
    endpoints: EndpointPolicy
    """Which push services a subscription may point at."""
    vapid: VapidKeys
    push_session: aiohttp.ClientSession
    """One session for every request to a push service."""
    sender: Sender
    """This replica's push sender."""
    alert_hub: AlertHub
    """The staff alert streams open on this replica."""
    webhook_hosts: WebhookHosts
    """Which loopback hosts a webhook may name beside public https URLs."""
