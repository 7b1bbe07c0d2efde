"""The native push channels the configuration asks for (APNs, FCM), sharing one set of egress rules."""

from __future__ import annotations

from aiohttp.abc import AbstractResolver

from services.notify.push.apns import apns_channel
from services.notify.push.channel import Channel
from services.notify.push.egress import PushEgress
from services.notify.push.fcm import fcm_channel
from services.notify.push.push_urls import PushServices
from services.notify.settings import NotifySettings


def native_channels(
    config: NotifySettings, services: PushServices, resolver: AbstractResolver | None = None
) -> list[Channel]:
    """APNs if ACCUEIL_APNS_KEY_FILE is set, FCM if ACCUEIL_FCM_SERVICE_ACCOUNT_FILE is; a ConfigError
    naming the variable if either is set but unusable. Called inside the event loop, at start-up."""
    egress = PushEgress(services, ca_file=config.push_ca_file, resolver=resolver)
    channels: list[Channel] = []
    for channel in (apns_channel(config, egress), fcm_channel(config, egress)):
        if channel is not None:
            channels.append(channel)
    return channels
