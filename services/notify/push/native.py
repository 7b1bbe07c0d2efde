"""The native push channels the configuration asks for (APNs, FCM), sharing one set of egress rules."""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec
from aiohttp.abc import AbstractResolver

from services.notify.push.apns import apns_channel
from services.notify.push.channel import Channel
from services.notify.push.egress import PushEgress
from services.notify.push.fcm import fcm_channel
from services.notify.push.push_urls import PushServices
from services.notify.settings import NotifySettings

log = logging.getLogger("accueil.notify.push")


def without_absent_secrets(config: NotifySettings) -> NotifySettings:
    """On Kubernetes the key files come from optional Secrets: the variables name a path, and without the
    Secret nothing is mounted there. An absent APNs key with none of its ids set, or an absent service
    account file, turns that channel off; an absent key whose ids are set is a broken configuration
    (the factory says so)."""
    apns_ids = (config.apns_key_id, config.apns_team_id, config.apns_topic)
    if config.apns_key_file and not Path(config.apns_key_file).exists() and not any(apns_ids):
        log.info("no APNs key at ACCUEIL_APNS_KEY_FILE and no APNs id set: APNs is off")
        config = msgspec.structs.replace(config, apns_key_file="")
    if config.fcm_service_account_file and not Path(config.fcm_service_account_file).exists():
        log.warning("no file at ACCUEIL_FCM_SERVICE_ACCOUNT_FILE: FCM is off")
        config = msgspec.structs.replace(config, fcm_service_account_file="")
    return config


def native_channels(
    config: NotifySettings, services: PushServices, resolver: AbstractResolver | None = None
) -> list[Channel]:
    """APNs if ACCUEIL_APNS_KEY_FILE is set, FCM if ACCUEIL_FCM_SERVICE_ACCOUNT_FILE is; a ConfigError
    naming the variable if either is set but unusable. Called inside the event loop, at start-up."""
    config = without_absent_secrets(config)
    egress = PushEgress(services, ca_file=config.push_ca_file, resolver=resolver)
    channels: list[Channel] = []
    for channel in (apns_channel(config, egress), fcm_channel(config, egress)):
        if channel is not None:
            channels.append(channel)
    return channels
