"""The demo's shopper as a native app (`accueil demo --native ios|android`): the device token its
platform would hand it, and what the APNs or FCM stand-in of `accueil run --push-standins` delivered
to that token, as the phone shows it (shared/local_push.py says where the stand-in is)."""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import httpx

Platform = Literal["ios", "android"]
PROVIDERS: dict[Platform, str] = {"ios": "apns", "android": "fcm"}
NAMES: dict[Platform, str] = {"ios": "iPhone", "android": "Android phone"}
PROVIDER_NAMES = {"apns": "APNs", "fcm": "FCM"}


def device_token(platform: Platform) -> str:
    if platform == "ios":
        return secrets.token_hex(32)  # what APNs hands an iPhone app: 32 bytes, in hex
    # What FCM hands an Android app: an instance id, then ":APA91b" and about 130 characters.
    return f"{secrets.token_urlsafe(16)[:22]}:APA91b{secrets.token_urlsafe(101)[:134]}"


@dataclass(frozen=True)
class Notification:
    """One push the phone got, as it shows it."""

    title: str
    body: str
    message_id: int | None
    received_at: float
    """Seconds since the epoch: comparable with this process's time.time()."""


@dataclass
class NativePhone:
    platform: Platform
    token: str = ""

    def __post_init__(self) -> None:
        self.token = self.token or device_token(self.platform)

    @property
    def provider(self) -> str:
        return PROVIDERS[self.platform]

    @property
    def name(self) -> str:
        return NAMES[self.platform]

    async def received(self, standin: Mapping[str, str]) -> list[Notification]:
        """What the stand-in (its description) delivered to this phone, in the order it arrived."""
        trusted = ssl.create_default_context(cafile=standin["ca_file"])
        async with httpx.AsyncClient(http2=True, verify=trusted, trust_env=False, timeout=10) as client:
            response = await client.get(f"{standin['url']}/_received", params={"token": self.token})
            response.raise_for_status()
        return [
            Notification(
                title=shown.get("title") or "",
                body=shown.get("body") or "",
                message_id=int(shown["message_id"]) if (shown.get("message_id") or "").isdigit() else None,
                received_at=float(shown["received_at"]),
            )
            for shown in response.json()["received"]
        ]
