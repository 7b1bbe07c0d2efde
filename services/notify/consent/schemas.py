"""The consent feature on the wire: registering a device, answering and reading its consents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from shared.events import PURPOSES, Purpose
from shared.wire import Answer, Body, Locale, Timezone


class DeviceCreate(Body):
    platform: Literal["web", "ios", "android"]
    locale: Locale
    timezone: Timezone | None = None


class DeviceCreated(Answer):
    device_id: str
    token: str
    expires_at: datetime
    """When the token stops working: the app rotates it before (POST /v1/devices/{id}/token)."""


# One optional answer per purpose of the catalogue: a purpose added there is asked here too.
Purposes = msgspec.defstruct(
    "Purposes", [(purpose, bool | None, None) for purpose in PURPOSES], bases=(Body,), kw_only=True
)
Purposes.__doc__ = "The answer for each purpose given; a purpose left out keeps its current answer."


# An answer about nothing we ask is no answer: at least one purpose is given (true or false).
SomePurposes = Annotated[
    Purposes,  # type: ignore[valid-type]
    msgspec.Meta(
        extra_json_schema={"anyOf": [{"required": [p], "properties": {p: {"type": "boolean"}}} for p in PURPOSES]}
    ),
]


class ConsentPut(Body):
    policy_version: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    purposes: SomePurposes
    shown: Annotated[str, msgspec.Meta(max_length=5_000)] | None = None
    """The text the person was shown when answering, kept as proof."""


class ConsentChange(Answer):
    at: datetime
    policy_version: str
    purposes: dict[Purpose, bool]
    shown: str | None = None
    user_agent: str | None = None
    receipt: str = ""
    """This answer's consent receipt (ISO/IEC TS 27560 shape), a compact JWS (EdDSA) that verifies with
    GET /.well-known/jwks.json."""


class Consents(Answer):
    device_id: str
    purposes: dict[Purpose, bool]
    policy_version: str | None = None
    updated_at: datetime | None = None
    history: list[ConsentChange] = []
    """Oldest first, a page at a time (100): with more, `history_next_after` is the `after` of the next."""
    history_next_after: int | None = None
