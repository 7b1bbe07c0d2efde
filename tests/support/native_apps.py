"""The shop's iOS and Android apps for the system tests: the APNs stand-ins (production and sandbox)
and the FCM stand-in over real TLS and HTTP/2, notify's settings (or a notify process's environment)
that push through them, and shoppers whose phone runs the app.

    async with native_push(directory) as native:
        configs = {"notify": native.settings()}      # push_hosts: (*native.hosts, ...)
        who = await app_shopper(system, "apns", device_token(), **EVERY_PURPOSE)
        [push] = await native.arrived(who)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from services.notify.settings import NotifySettings
from tests.conftest import System, eventually
from tests.support.apns_service import ApnsKey, ApnsPush, LocalApns, make_apns_key
from tests.support.builders import Shopper, shopper
from tests.support.fcm_service import FcmSend, LocalFcm, ServiceAccount, make_service_account
from tests.support.push_pki import TestPki, make_pki

TOPIC = "com.example.shop"
"""The iOS app's bundle id."""

Provider = Literal["apns", "fcm"]
PLATFORM = {"apns": "ios", "fcm": "android"}


@dataclass
class AppShopper(Shopper):
    """A shopper whose phone runs the app, with the token it registered."""

    provider: Provider = "apns"
    token: str = ""
    environment: str | None = None  # APNs: production or sandbox


@dataclass
class NativePush:
    pki: TestPki
    key: ApnsKey
    account: ServiceAccount
    apns: LocalApns
    sandbox: LocalApns
    fcm: LocalFcm
    key_file: Path
    account_file: Path

    @property
    def hosts(self) -> tuple[str, ...]:
        """For ACCUEIL_PUSH_HOSTS."""
        return (self.apns.host, self.sandbox.host, self.fcm.host)

    def _values(self) -> dict[str, str]:
        return {
            "apns_key_file": str(self.key_file),
            "apns_key_id": self.key.key_id,
            "apns_team_id": self.key.team_id,
            "apns_topic": TOPIC,
            "apns_url": self.apns.url,
            "apns_sandbox_url": self.sandbox.url,
            "fcm_service_account_file": str(self.account_file),
            "fcm_url": self.fcm.url,
            "push_ca_file": str(self.pki.ca_file),
        }

    def settings(self, **changes: Any) -> NotifySettings:
        """notify's settings with APNs and FCM pushing to the stand-ins (every test's shoppers register
        from 127.0.0.1: the per-address budget is lifted, as conftest's TESTING_NOTIFY does)."""
        return NotifySettings(**{**self._values(), "registrations_per_hour": 100_000, **changes})

    def environment(self) -> dict[str, str]:
        """The same, as the ACCUEIL_* variables of a notify process of its own (ACCUEIL_PUSH_HOSTS
        must list `hosts`)."""
        return {f"ACCUEIL_{name.upper()}": value for name, value in self._values().items()}

    def standin(self, provider: Provider, environment: str | None = None) -> LocalApns | LocalFcm:
        if provider == "fcm":
            return self.fcm
        return self.sandbox if environment == "sandbox" else self.apns

    def requests(self, who: AppShopper) -> list[Any]:
        """Every request for the shopper's token, whatever was answered: ApnsPush or FcmSend."""
        standin = self.standin(who.provider, who.environment)
        return [p for p in standin.log.received if p.token == who.token]

    async def arrived(self, who: AppShopper, count: int = 1) -> list[Any]:
        """The pushes delivered to the shopper's phone, once there are `count`."""

        async def probe() -> list[ApnsPush | FcmSend] | None:
            found = [p for p in self.requests(who) if p.status == 200]
            return found if len(found) >= count else None

        return await eventually(probe)


@asynccontextmanager
async def native_push(directory: Path) -> AsyncIterator[NativePush]:
    """The three stand-ins on free loopback ports, their keys and test CA written in `directory`."""
    pki = make_pki(directory / "pki")
    key, account = make_apns_key(), make_service_account("shop-app")
    async with LocalApns(pki, key, topic=TOPIC) as apns, LocalApns(pki, key, topic=TOPIC) as sandbox:
        async with LocalFcm(pki, account) as fcm:
            key_file = key.write(directory / f"AuthKey_{key.key_id}.p8")
            account_file = account.write(directory / "service-account.json", fcm.token_uri)
            yield NativePush(pki, key, account, apns, sandbox, fcm, key_file, account_file)


def token_body(provider: Provider, token: str, environment: str | None = None) -> dict[str, str]:
    body = {"provider": provider, "token": token}
    return body | ({"environment": environment} if environment else {})


async def put_push_token(
    client: httpx.AsyncClient, recipient: str, auth: dict[str, str], body: dict[str, str]
) -> httpx.Response:
    """PUT /v1/{recipient}/push-token: `recipient` is `devices/<id>` or `staff/<id>`."""
    return await client.put(f"/v1/{recipient}/push-token", json=body, headers=auth)


async def app_shopper(
    system: System,
    provider: Provider,
    token: str,
    *,
    environment: str | None = None,
    locale: str = "fr-FR",
    **consents: bool,
) -> AppShopper:
    """A phone running the shop's app (iOS for APNs, Android for FCM), its push token registered."""
    who = await shopper(system, locale=locale, platform=PLATFORM[provider], **consents)
    body = token_body(provider, token, environment)
    r = await put_push_token(system.notify, f"devices/{who.device_id}", who.auth, body)
    assert r.status_code == 200, r.text
    return AppShopper(who.device_id, who.auth, provider=provider, token=token, environment=r.json().get("environment"))
