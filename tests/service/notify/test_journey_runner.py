"""One round of the journey runner over several due enrollments at once: each walks from where it
is to its next wait or its exit, with the steps it reached, its messages and its new place written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest

from services.notify.journeys.flows import Flows
from services.notify.journeys.runner import run_due
from services.notify.journeys.schemas import JourneyDocument
from services.notify.policy.decide import Policy
from shared.db import Database
from tests.support.builders import TEXTS, timezone_at

NOW = datetime.now(UTC)
PAST = NOW - timedelta(seconds=5)

DOCUMENT = {
    "entry": {"event": "zone.entered", "zone_kind": "store"},
    "holdout_percent": 10,
    "steps": [
        {"id": "look", "type": "wait", "for": "PT10M", "next": "stock"},
        {"id": "stock", "type": "branch", "if": {"in_stock": "YOG-1"}, "then": "offer", "else": "end"},
        {"id": "offer", "type": "message", "purpose": "offers", "sku": "YOG-1", "message": TEXTS, "next": "end"},
        {"id": "end", "type": "exit"},
    ],
}


@dataclass(frozen=True)
class Runner:
    """What run_due takes of notify's context."""

    db: Database
    policy: Policy
    flows: Flows

    def part(self, kind: type) -> Any:
        assert kind is Flows
        return self.flows


@pytest.fixture
def runner(notify_db: Database) -> Runner:
    return Runner(notify_db, Policy(), Flows())


async def add_journey(db: asyncpg.Connection, journey_id: str, document: dict[str, Any]) -> None:
    stored = msgspec.to_builtins(msgspec.convert(document, JourneyDocument))
    await db.execute(
        "INSERT INTO notify.journeys (journey_id, name, version, entry_event) VALUES ($1, $1, 1, 'zone.entered')",
        journey_id,
    )
    await db.execute(
        "INSERT INTO notify.journey_versions (journey_id, version, document) VALUES ($1, 1, $2)", journey_id, stored
    )


async def add_devices(db: asyncpg.Connection, devices: list[str], pickup_updates: bool = False) -> None:
    """Devices with the offers consent (and pickup updates' if asked), where it is midday, each with a
    push target."""
    await db.execute(
        "INSERT INTO notify.devices (device_id, platform, locale, timezone)"
        " SELECT unnest($1::text[]), 'android', 'fr', $2",
        devices,
        timezone_at(12),
    )
    await db.execute(
        "INSERT INTO notify.consents (device_id, location, offers, pickup_updates, policy_version)"
        " SELECT unnest($1::text[]), true, true, $2, 'v1'",
        devices,
        pickup_updates,
    )
    await db.execute(
        "INSERT INTO notify.push_targets (recipient_kind, recipient_id, provider, address)"
        " SELECT 'device', d, 'fcm', 'token-' || d FROM unnest($1::text[]) AS d",
        devices,
    )


async def enroll(
    db: asyncpg.Connection, journey_id: str, device: str, arm: str, store: str, step: str, ran: bool, wake_at: datetime
) -> int:
    enrollment_id: int = await db.fetchval(
        """
        INSERT INTO notify.enrollments (journey_id, version, device_id, arm, store_id, entry_event_id, entered_at,
                                        step, ran, wake_at)
        VALUES ($1, 1, $2, $3, $4, 100, $5, $6, $7, $8) RETURNING enrollment_id
        """,
        journey_id,
        device,
        arm,
        store,
        NOW - timedelta(minutes=10),
        step,
        ran,
        wake_at,
    )
    return enrollment_id


async def given(db: asyncpg.Connection) -> dict[str, int]:
    """Yoghurt in stock at rivoli, not at bastille; five devices in the journey; their enrollments."""
    await add_journey(db, "j", DOCUMENT)
    await db.execute(
        "INSERT INTO notify.products (sku, name, category, event_id) VALUES ('YOG-1', 'Yaourt', 'dairy', 1)"
    )
    await db.execute(
        "INSERT INTO notify.stock (store_id, sku, available, on_hand, event_id)"
        " VALUES ('rivoli', 'YOG-1', 5, 5, 2), ('bastille', 'YOG-1', 0, 0, 3)"
    )
    await add_devices(db, ["in-stock", "held-out", "out-of-stock", "entered", "waiting"])
    return {
        device: await enroll(db, "j", device, arm, store, "look", ran, wake_at)
        for device, arm, store, ran, wake_at in [
            ("in-stock", "treatment", "rivoli", True, PAST),  # its wait is over
            ("held-out", "control", "rivoli", True, PAST),
            ("out-of-stock", "treatment", "bastille", True, PAST),
            ("entered", "treatment", "rivoli", False, PAST),  # its first step is still to run
            ("waiting", "treatment", "rivoli", True, NOW + timedelta(minutes=5)),  # not due
        ]
    }


async def test_a_round_moves_every_due_enrollment_to_its_next_wait_or_its_exit(
    db: asyncpg.Connection, runner: Runner
) -> None:
    enrollments = await given(db)

    assert await run_due(runner, NOW) == 4  # type: ignore[arg-type]

    rows = await db.fetch("SELECT device_id, step, ran, wake_at, exit_reason FROM notify.enrollments")
    where = {r["device_id"]: (r["step"], r["ran"], r["wake_at"], r["exit_reason"]) for r in rows}
    assert where == {
        "in-stock": ("end", True, None, "completed"),
        "held-out": ("end", True, None, "completed"),
        "out-of-stock": ("end", True, None, "completed"),
        "entered": ("look", True, NOW + timedelta(minutes=10), None),
        "waiting": ("look", True, NOW + timedelta(minutes=5), None),
    }
    steps = await db.fetch("SELECT enrollment_id, step, reached_at FROM notify.enrollment_steps")
    reached = {(r["enrollment_id"], r["step"]) for r in steps}
    assert reached == {
        *((enrollments["in-stock"], s) for s in ("stock", "offer", "end")),
        *((enrollments["held-out"], s) for s in ("stock", "offer", "end")),
        *((enrollments["out-of-stock"], s) for s in ("stock", "end")),
        (enrollments["entered"], "look"),
    }
    assert {r["reached_at"] for r in steps} == {NOW}
    messages = await db.fetch(
        "SELECT device_id, journey_id, journey_step, enrollment_id, status, reason, title FROM notify.messages"
    )
    assert sorted(tuple(r) for r in messages) == [
        ("held-out", "j", "offer", enrollments["held-out"], "suppressed", "holdout", None),
        ("in-stock", "j", "offer", enrollments["in-stock"], "pending", None, "Bienvenue"),
    ]
    assert await run_due(runner, NOW) == 0  # type: ignore[arg-type]


async def test_a_branch_on_consent_reads_each_devices_own_answer(db: asyncpg.Connection, runner: Runner) -> None:
    await add_journey(
        db,
        "ask",
        {
            "entry": {"event": "zone.entered"},
            "steps": [
                {"id": "asked", "type": "branch", "if": {"consent": "pickup_updates"}, "then": "yes", "else": "no"},
                {"id": "yes", "type": "exit"},
                {"id": "no", "type": "exit"},
            ],
        },
    )
    await add_devices(db, ["consenting"], pickup_updates=True)
    await add_devices(db, ["not-consenting"])
    for device in ("consenting", "not-consenting"):
        await enroll(db, "ask", device, "treatment", "rivoli", "asked", False, PAST)

    assert await run_due(runner, NOW) == 2  # type: ignore[arg-type]

    rows = await db.fetch("SELECT device_id, step, exit_reason FROM notify.enrollments")
    assert sorted(tuple(r) for r in rows) == [("consenting", "yes", "completed"), ("not-consenting", "no", "completed")]
