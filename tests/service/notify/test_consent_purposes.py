"""Each purpose of the catalogue is stored in its own column, read back, and asked by `consenting`, the
check a delivery kind makes as its messages are sent; and a message of any purpose can be logged."""

from __future__ import annotations

import asyncpg
import pytest

from services.notify.consent import repository as repo
from services.notify.consent.service import purposes_of
from shared.events import PURPOSES


async def device_saying_yes_to(db: asyncpg.Connection, purpose: str) -> str:
    """A device whose only yes is `purpose`, answered as a shopper's PUT records it."""
    device_id = f"dev-{purpose}"
    await repo.create_device(db, device_id, "web", "fr-FR", "Europe/Paris")
    answer = {p: p == purpose for p in PURPOSES}
    await repo.save_consents(db, device_id, answer, "2026-01", "the notice", "test agent")
    return device_id


async def test_each_purpose_is_kept_and_read_back_on_its_own(db: asyncpg.Connection) -> None:
    devices = {p: await device_saying_yes_to(db, p) for p in PURPOSES}
    for purpose, device_id in devices.items():
        assert purposes_of(await repo.get_consents(db, device_id)) == {p: p == purpose for p in PURPOSES}
        [proof] = await repo.consent_history(db, device_id)
        assert proof["purposes"] == {p: p == purpose for p in PURPOSES}


@pytest.mark.parametrize("purpose", PURPOSES)
async def test_consenting_finds_exactly_the_devices_that_said_yes_to_the_purpose(
    db: asyncpg.Connection, purpose: str
) -> None:
    devices = {p: await device_saying_yes_to(db, p) for p in PURPOSES}
    assert await repo.consenting(db, purpose, list(devices.values())) == {devices[purpose]}


async def test_a_device_that_never_answered_product_tips_has_not_given_it(db: asyncpg.Connection) -> None:
    # A consent row written without the purpose (as before it existed): no, by default.
    await repo.create_device(db, "dev-old", "web", "fr-FR", "Europe/Paris")
    await db.execute(
        "INSERT INTO notify.consents (device_id, location, pickup_updates, offers, policy_version)"
        " VALUES ('dev-old', true, true, true, '2025-01')"
    )
    assert (await repo.get_consents(db, "dev-old"))["product_tips"] is False
    assert await repo.consenting(db, "product_tips", ["dev-old"]) == set()


async def test_a_product_tip_can_be_logged_like_any_message(db: asyncpg.Connection) -> None:
    device_id = await device_saying_yes_to(db, "product_tips")
    await db.execute(
        """
        INSERT INTO notify.messages (device_id, event_id, purpose, status, store_id, sku)
        VALUES ($1, 1, 'product_tips', 'suppressed', 'rivoli', 'COMPOST-40L')
        """,
        device_id,
    )
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            "INSERT INTO notify.messages (device_id, event_id, purpose, status) VALUES ($1, 2, 'gossip', 'suppressed')",
            device_id,
        )
