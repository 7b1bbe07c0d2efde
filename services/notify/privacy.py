"""A person's rights over their data: see it all (export), erase it everywhere, know what is kept and
why (the privacy notice, generated from the running configuration so it cannot drift)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from litestar import Response, delete, get
from litestar.params import FromPath, FromQuery

from services.notify import repository as repo
from services.notify.context import NotifyContext
from services.notify.streams import payload_of
from shared import bus, erasure, peers
from shared.auth import Caller
from shared.bus import Consumer
from shared.context import FromContext
from shared.db import Conn
from shared.errors import BadGateway, Invalid, NotFound
from shared.events import ErasureConfirmed, ErasureRequested, ErasureRequestedData
from shared.jobs import Job
from shared.revocation import revoke
from shared.wire import check_id

ERASED_ELSEWHERE = ["geo", "inventory"]  # notify erases its own part in the request itself


def erasure_answer(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "erasure_id": row["erasure_id"],
        "status": "completed" if row["completed_at"] else "pending",
        "pending": list(row["pending"]),
        "requested_at": row["requested_at"],
        "completed_at": row["completed_at"],
        "status_url": f"/v1/erasures/{row['erasure_id']}",
    }


@delete("/v1/devices/{device_id:str}", status_code=202)
async def erase_device(
    device_id: FromPath[str], principal: Caller, ctx: FromContext[NotifyContext]
) -> Response[dict[str, Any]]:
    """Erase the device everywhere. notify's own part is done before this answers, and the token is
    refused from then on; geo and inventory confirm on the bus (also after an outage: the request
    waits for them). Asking again answers the same request."""
    check_id(device_id, "device_id")
    principal.require_device(device_id)
    subject = erasure.pseudonym(ctx.settings.token_key, device_id)
    async with ctx.db.transaction() as conn:
        if await repo.get_device(conn, device_id) is None:
            earlier = await repo.erasure_of_subject(conn, subject)
            if earlier is None:
                raise NotFound(f"unknown device {device_id!r}", field="device_id")
            return Response(erasure_answer(earlier), status_code=200)
        erasure_id = f"era_{secrets.token_urlsafe(16)}"
        await revoke(conn, device_id)
        await repo.announce(conn, [payload_of(r) for r in await repo.close_alerts_of_device(conn, device_id)])
        await repo.erase_device(conn, device_id, subject)
        row = await repo.create_erasure(conn, erasure_id, subject, device_id, ERASED_ELSEWHERE)
        await ctx.publish(
            conn,
            [
                ErasureRequested(
                    ts=datetime.now(UTC), device_id=device_id, data=ErasureRequestedData(erasure_id=erasure_id)
                )
            ],
        )
    ctx.revocations.revoked.add(device_id)  # this process refuses the token at once
    return Response(erasure_answer(row), status_code=202)


@get("/v1/erasures/{erasure_id:str}", exclude_from_auth=True)
async def erasure_status(erasure_id: FromPath[str], conn: Conn) -> dict[str, Any]:
    """Public by its unguessable id: the erased device's token no longer works, yet its owner may
    follow the request until every service has confirmed."""
    row = await repo.get_erasure(conn, check_id(erasure_id, "erasure_id"))
    if row is None:
        raise NotFound(f"unknown erasure {erasure_id!r}", field="erasure_id")
    return erasure_answer(row)


async def record_confirmation(conn: asyncpg.Connection, event: ErasureConfirmed, _ctx: NotifyContext) -> None:
    done = await repo.confirm_erasure(conn, event.data.erasure_id, event.data.service)
    if done is not None and done["just_completed"]:
        await bus.forget_device(conn, done["device_id"])


CONFIRMATIONS = Consumer(name="notify.erasures", types=(ErasureConfirmed,), handle=record_confirmation)


async def _from_peer(ctx: NotifyContext, service: str, path: str) -> Any:
    try:
        status, body = await peers.get_json(ctx, service, path)
    except peers.PeerError as exc:
        raise BadGateway(f"{service} cannot give its part of the export right now; retry shortly") from exc
    return body if status != 404 else None


@get("/v1/devices/{device_id:str}/export")
async def export(
    device_id: FromPath[str], conn: Conn, principal: Caller, ctx: FromContext[NotifyContext]
) -> dict[str, Any]:
    """All data held about the device, from the three services, in one document."""
    check_id(device_id, "device_id")
    principal.require_device(device_id)
    device = await repo.get_device(conn, device_id)
    if device is None:
        raise NotFound(f"unknown device {device_id!r}", field="device_id")
    consents = await repo.get_consents(conn, device_id)
    subscription = await repo.subscription_of(conn, device_id)
    geo = await _from_peer(ctx, "geo", f"/v1/devices/{device_id}/data")
    inventory = await _from_peer(ctx, "inventory", f"/v1/devices/{device_id}/orders")
    return {
        "device_id": device_id,
        "exported_at": datetime.now(UTC),
        "notify": {
            "device": dict(device),
            "consents": dict(consents) if consents else None,
            "consent_history": [dict(r) for r in await repo.consent_history(conn, device_id)],
            "push_subscription": dict(subscription) if subscription else None,
            "messages": [dict(r) for r in await repo.messages_of(conn, device_id, 100_000)],
            "staff_alerts": [dict(r) for r in await repo.alerts_about(conn, device_id)],
        },
        "geo": geo,
        "inventory": inventory,
    }


def collection(ctx: NotifyContext) -> list[dict[str, Any]]:
    config = ctx.config
    return [
        {
            "data": "device",
            "purpose": "service",
            "what": {
                "en": "your device's platform, language and time zone",
                "fr": "la plateforme, la langue et le fuseau horaire de votre appareil",
            },
            "kept": {"unit": "until_erased", "value": None},
        },
        {
            "data": "consents",
            "purpose": "proof_of_consent",
            "what": {
                "en": "each answer you gave, with when, which policy version and from which app",
                "fr": "chacune de vos réponses, avec la date, la version de la politique et l'application",
            },
            "kept": {"unit": "as_required_by_law", "value": None},
        },
        {
            "data": "push_subscription",
            "purpose": "offers, pickup_updates",
            "what": {
                "en": "the address your browser gave for notifications",
                "fr": "l'adresse donnée par votre navigateur pour les notifications",
            },
            "kept": {"unit": "until_erased", "value": None},
        },
        {
            "data": "staff_alerts",
            "purpose": "pickup_updates",
            "what": {
                "en": "what store staff were told as you arrived to collect an order: your chosen name, the order",
                "fr": "ce que l'équipe du magasin a su de votre arrivée pour un retrait : le nom choisi, la commande",
            },
            "kept": {"unit": "days", "value": config.message_retention_days},
        },
        {
            "data": "message_log",
            "purpose": "offers, pickup_updates",
            "what": {
                "en": "every message decided for you, sent or not, and why",
                "fr": "chaque message décidé pour vous, envoyé ou non, et pourquoi",
            },
            "kept": {"unit": "days", "value": config.message_retention_days},
        },
    ]


PURPOSES = {
    "location": {
        "en": "to know when you are in or near a store, to send an offer there",
        "fr": "savoir quand vous êtes dans un magasin ou à proximité, pour vous y proposer une offre",
    },
    "pickup_updates": {
        "en": "to tell you your order is ready, and staff that you are arriving to collect it",
        "fr": "vous dire que votre commande est prête, et prévenir l'équipe de votre arrivée pour la retirer",
    },
    "offers": {
        "en": "to send you offers for products in stock in the store you are in",
        "fr": "vous envoyer des offres sur des produits en stock dans le magasin où vous êtes",
    },
}


@get("/v1/privacy", exclude_from_auth=True)
async def privacy_notice(ctx: FromContext[NotifyContext], lang: FromQuery[str | None] = None) -> dict[str, Any]:
    """What is collected, for which purpose, kept how long: from each service's running settings."""
    if lang not in (None, "en", "fr"):
        raise Invalid("lang is en or fr", field="lang")
    parts = {"notify": collection(ctx)}
    for service in ERASED_ELSEWHERE:
        try:
            _, body = await peers.get_json(ctx, service, "/v1/privacy")
            parts[service] = body["collects"]
        except (peers.PeerError, KeyError, TypeError):
            parts[service] = None  # that service is unreachable right now: say so rather than guess
    notice: dict[str, Any] = {
        "purposes": PURPOSES,
        "collects": parts,
        "rights": {
            "export": "GET /v1/devices/{device_id}/export",
            "erase": "DELETE /v1/devices/{device_id}",
            "withdraw": "PUT /v1/devices/{device_id}/consents",
        },
        "never": {
            "en": (
                "no raw IP address is stored; no location is processed without the location consent"
                " or a pickup trip you started"
            ),
            "fr": (
                "aucune adresse IP brute n'est conservée ; aucune position n'est traitée sans le consentement"
                " de localisation ou un retrait que vous avez lancé"
            ),
        },
    }
    return _in_language(notice, lang) if lang else notice


def _in_language(value: Any, lang: str) -> Any:
    """Keep one language of every {"en": ..., "fr": ...} pair."""
    if isinstance(value, dict):
        if set(value) == {"en", "fr"}:
            return value[lang]
        return {k: _in_language(v, lang) for k, v in value.items()}
    if isinstance(value, list):
        return [_in_language(v, lang) for v in value]
    return value


async def enforce_retention(ctx: NotifyContext, now: datetime) -> int:
    """The message log and staff alerts (they name the shopper) share the message retention."""
    cutoff = now - timedelta(days=ctx.config.message_retention_days)
    async with ctx.db.transaction() as conn:
        return await repo.delete_old_messages(conn, cutoff) + await repo.delete_old_alerts(conn, cutoff)


RETENTION = Job("notify.message_retention", 3600, enforce_retention)

ROUTES = [erase_device, erasure_status, export, privacy_notice]
