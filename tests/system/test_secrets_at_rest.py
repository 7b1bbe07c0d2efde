"""The secrets notify keeps in its database, sealed: no webhook secret and no VAPID private key in any
row; a secret copied into another webhook's row signs nothing; after ACCUEIL_TOKEN_KEY_VERSION is
raised, both are sealed under the new version and webhooks and pushes go on with the same secrets."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest

from services.notify.push.vapid import VapidKeys
from tests.conftest import TESTING_NOTIFY, System, eventually
from tests.support.builders import EVERY_PURPOSE, campaign, enter, settled, shop, shopper
from tests.support.push_service import LocalPushService
from tests.support.webhook_receiver import WebhookReceiver

CONSENTED = {"location": True, "offers": False, "pickup_updates": True}


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as r:
        yield r


@pytest.fixture
def configs(receiver: WebhookReceiver) -> dict[str, Any]:
    notify = msgspec.structs.replace(TESTING_NOTIFY, webhook_hosts=(receiver.host,), webhook_retry_s=0.2)
    return {"notify": notify}


async def register(system: System, receiver: WebhookReceiver, webhook_id: str) -> str:
    """A webhook for consent changes; its secret."""
    body = {"url": receiver.url(f"/{webhook_id}"), "events": ["consent.changed"]}
    r = await system.notify.put(f"/v1/webhooks/{webhook_id}", json=body, headers=system.admin)
    assert r.status_code == 200, r.text
    secret: str = r.json()["secret"]
    return secret


async def notify_rows(db: asyncpg.Connection) -> str:
    """Every row of every table of notify's schema and of the bus, as PostgreSQL prints it (bytea in hex)."""
    tables = await db.fetch(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN ('notify', 'bus') ORDER BY 1, 2"
    )
    assert len(tables) > 20
    return "\n".join(
        [r[0] for t in tables for r in await db.fetch(f'SELECT t::text FROM "{t[0]}"."{t[1]}" t')]  # noqa: S608
    )


def forms(raw: bytes) -> list[str]:
    """How a secret's bytes could be written down: hex (bytea's text), base64, base64url."""
    return [
        raw.hex(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ]


async def test_the_database_holds_no_webhook_secret_nor_vapid_private_key(
    system: System, db: asyncpg.Connection, receiver: WebhookReceiver
) -> None:
    secret = await register(system, receiver, "crm")
    await shopper(system, **CONSENTED)
    await eventually(lambda: asyncio.sleep(0, len(receiver.received) == 1))
    keys = system.running.state("notify").part(VapidKeys)
    private = keys.signer.private_key.private_numbers().private_value.to_bytes(32, "big")

    rows = await notify_rows(db)
    assert "crm" in rows and keys.public_key in rows  # the rows holding both were read
    assert secret not in rows
    for clear in [*forms(base64.b64decode(secret.removeprefix("whsec_"))), *forms(private)]:
        assert clear not in rows


async def test_a_secret_copied_into_another_webhooks_row_signs_nothing(
    system: System, db: asyncpg.Connection, receiver: WebhookReceiver
) -> None:
    secret = await register(system, receiver, "crm")
    await register(system, receiver, "erp")
    await db.execute(
        """
        UPDATE notify.webhooks SET sealed_secret = (SELECT sealed_secret FROM notify.webhooks WHERE webhook_id = 'crm')
        WHERE webhook_id = 'erp'
        """
    )
    await shopper(system, **CONSENTED)

    async def erp_refused() -> list[dict[str, Any]]:
        log = (await system.notify.get("/v1/webhooks/erp/deliveries", headers=system.admin)).json()
        return [a for a in log["attempts"] if a["error"] and "secret cannot be opened" in a["error"]]

    await eventually(erp_refused)
    await eventually(lambda: asyncio.sleep(0, len(receiver.received) == 1))
    [got] = receiver.received  # crm's only: nothing was sent for erp, signed with crm's secret or otherwise
    got.verified(secret)
    assert receiver.refused == []
    attempts = (await system.notify.get("/v1/webhooks/erp/deliveries", headers=system.admin)).json()["attempts"]
    assert attempts and not any("status_code" in a for a in attempts)  # no request was made


async def stored_versions(db: asyncpg.Connection) -> list[int]:
    """The key version each sealed value begins with (4 bytes, big-endian)."""
    rows = await db.fetch(
        """
        SELECT ('x' || encode(substring(sealed_private_key FOR 4), 'hex'))::bit(32)::int AS v FROM notify.vapid_keys
        UNION ALL
        SELECT ('x' || encode(substring(sealed_secret FOR 4), 'hex'))::bit(32)::int FROM notify.webhooks
        """
    )
    return [r["v"] for r in rows]


async def test_a_raised_token_key_version_seals_again_and_webhooks_and_pushes_go_on_as_before(
    system: System, db: asyncpg.Connection, receiver: WebhookReceiver, push: LocalPushService
) -> None:
    secret = await register(system, receiver, "crm")
    public = (await system.notify.get("/v1/vapid-public-key")).json()["public_key"]
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    await campaign(system, "welcome", "YOG-1")
    assert await stored_versions(db) == [1, 1]

    await system.running.restart_on_version(2)

    assert await stored_versions(db) == [2, 2]
    assert (await system.notify.get("/v1/vapid-public-key")).json()["public_key"] == public
    who = await shopper(system, push, **EVERY_PURPOSE)  # a device token of the new version
    assert who.sub is not None and who.sub.server_key == public
    await eventually(lambda: asyncio.sleep(0, len(receiver.received) == 1))
    receiver.received[0].verified(secret)  # signed with the secret the operator was given before
    await enter(system, who)
    [message] = await settled(system, who)
    assert message["status"] == "sent" and push.refused == []  # signed with the pair browsers subscribed with
