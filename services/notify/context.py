"""What notify's routes, consumers and jobs receive."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from services.notify.decide import Policy
from services.notify.endpoints import EndpointPolicy
from services.notify.sender import Sender
from services.notify.settings import NotifySettings
from services.notify.streams import AlertHub
from services.notify.vapid import VapidKeys
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
