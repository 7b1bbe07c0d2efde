"""A journey's life through the running services: checked when saved (422 naming the path), versioned,
paused, scheduled, ended; devices entering again or not, leaving on an event; waits falling due on
time across two notify processes; and the device's own view: its enrollments, its export, its erasure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from shared.geodesy import destination
from tests.conftest import System, eventually
from tests.support.builders import (
    EVERY_PURPOSE,
    STORE,
    TEXTS,
    create_store,
    enter,
    messages,
    ping,
    place_order,
    settled,
    shop,
    shopper,
    staff_member,
    timezone_at,
    upload,
    walk_in,
)
from tests.support.journeys import (
    EVERY_DAY,
    enrolled,
    enrollments,
    event_of,
    exited,
    handled,
    minutes_ago,
    put_journey,
    results,
    saved,
    welcome,
)
from tests.support.processes import ServiceProcess
from tests.support.push_service import LocalPushService

WITHIN = timedelta(seconds=5)


def lingering(wait: str = "PT30S", **fields: Any) -> dict[str, Any]:
    """A journey a device walking into the shop enters and stays in for `wait`, then leaves."""
    return {
        "name": "Lingering",
        "entry": {"event": "zone.entered", "zone_kind": "store"},
        "steps": [{"id": "look", "type": "wait", "for": wait}],
        **fields,
    }


# ------------------------------------------------------------------------- two notify processes


async def test_waits_fall_due_within_5_s_across_two_notify_processes_and_run_once(
    system: System, push: LocalPushService, db: asyncpg.Connection, db_url: str, tmp_path: Path
) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 50))
    ports = system.running.ports
    settings = {
        "ACCUEIL_GEO_PORT": str(ports["geo"]),
        "ACCUEIL_INVENTORY_PORT": str(ports["inventory"]),
        "ACCUEIL_PUSH_HOSTS": push.host,
        "ACCUEIL_BUS_POLL_S": str(system.settings.bus_poll_s),
    }
    with ServiceProcess("notify", db_url, tmp_path, **settings) as other:
        await other.ready()
        await saved(system, "welcome", welcome(wait="PT2S"))
        devices = [await shopper(system, push, **EVERY_PURPOSE) for _ in range(8)]
        await asyncio.gather(*(enter(system, who) for who in devices))
        for who in devices:
            assert (await exited(system, who, "welcome"))["exit_reason"] == "completed"
        assert other.proc.poll() is None and "Traceback" not in other.logs(), other.logs()

    steps = await db.fetch(
        """
        SELECT e.device_id, s.step, s.reached_at
        FROM notify.enrollment_steps s JOIN notify.enrollments e USING (enrollment_id)
        WHERE e.journey_id = 'welcome'
        """
    )
    reached = {(r["device_id"], r["step"]): r["reached_at"] for r in steps}
    assert len(reached) == 2 * len(devices)
    for who in devices:
        due = reached[(who.device_id, "look")] + timedelta(seconds=2)
        assert due <= reached[(who.device_id, "offer")] <= due + WITHIN, who.device_id
    decided = await db.fetch(
        "SELECT device_id, journey_step, count(*) AS n FROM notify.messages WHERE journey_id = 'welcome' GROUP BY 1, 2"
    )
    assert sorted((r["device_id"], r["journey_step"], r["n"]) for r in decided) == sorted(
        (who.device_id, "offer", 1) for who in devices
    )
    for who in devices:
        [message] = await settled(system, who)
        assert message["status"] == "sent"
        assert [p.payload["id"] for p in push.received(who.sub)] == [message["id"]]


# ------------------------------------------------------------------------------ validation


async def test_a_wrong_journey_is_refused_naming_the_path(system: System) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    offer = welcome()["steps"][1]
    end = {"id": "end", "type": "exit"}

    def with_steps(*steps: dict[str, Any]) -> dict[str, Any]:
        return welcome() | {"steps": list(steps)}

    cases: dict[str, list[dict[str, Any]]] = {
        "steps[1].next": [
            with_steps({"id": "look", "type": "wait", "for": "PT1S", "next": "offer"}, offer | {"next": "nowhere"})
        ],
        "steps[0].for": [with_steps({"id": "look", "type": "wait", "for": "PT0S", "next": "offer"}, offer)],
        "holdout_percent": [welcome(holdout_percent=60)],
        "steps[1].sku": [
            with_steps({"id": "look", "type": "wait", "for": "PT1S", "next": "offer"}, offer | {"sku": "NOT-SOLD"})
        ],
        "steps[1].id": [with_steps({"id": "look", "type": "wait", "for": "PT1S", "next": "end"}, end | {"id": "look"})],
        "steps[2]": [with_steps({"id": "look", "type": "wait", "for": "PT1S", "next": "end"}, end, offer)],
    }
    for path, [body] in cases.items():
        r = await put_journey(system, "bad", body)
        assert (r.status_code, r.json().get("field")) == (422, path), r.text
    # A loop of a branch and a message, with no wait: a step in it is named.
    loop = with_steps(
        {"id": "ask", "type": "branch", "if": {"consent": "offers"}, "then": "offer", "else": "end"},
        offer | {"next": "ask"},
        end,
    )
    r = await put_journey(system, "bad", loop)
    assert (r.status_code, r.json().get("field")) in ((422, "steps[0]"), (422, "steps[1]")), r.text
    assert (await system.notify.get("/v1/journeys/bad", headers=system.admin)).status_code == 404


async def test_a_changed_journey_is_a_new_version_and_a_device_in_it_finishes_its_own(
    system: System, push: LocalPushService
) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    first = welcome(wait="PT4S")
    assert (await saved(system, "welcome", first))["version"] == 1
    assert (await saved(system, "welcome", first))["version"] == 1  # the same document again
    early = await shopper(system, push, **EVERY_PURPOSE)
    await enter(system, early)
    assert (await enrolled(system, early, "welcome"))["exit_reason"] is None

    changed = {"fr": {"title": "Nouveau", "body": "{product} aujourd'hui"}, "en": {"title": "New", "body": "{product}"}}
    second = await saved(system, "welcome", welcome(wait="PT1S", texts=changed))
    assert second["version"] == 2 and second["steps"][1]["message"] == changed
    late = await shopper(system, push, **EVERY_PURPOSE)
    await enter(system, late)

    for who, version, title in ((early, 1, TEXTS["fr"]["title"]), (late, 2, "Nouveau")):
        enrollment = await exited(system, who, "welcome")
        assert (enrollment["version"], enrollment["exit_reason"]) == (version, "completed")
        [message] = await settled(system, who)
        assert (message["status"], message["title"]) == ("sent", title)
    listed = (await system.notify.get("/v1/journeys", headers=system.admin)).json()
    assert [(j["journey_id"], j["version"]) for j in listed] == [("welcome", 2)]


# ------------------------------------------------------------------------------- lifecycle


async def test_an_ended_journey_lets_everyone_out_and_keeps_its_results(system: System, db: asyncpg.Connection) -> None:
    await create_store(system)
    await saved(system, "lingering", lingering())
    devices = [await shopper(system, location=True) for _ in range(2)]
    for who in devices:
        await enter(system, who)
        await enrolled(system, who, "lingering", step="look")

    ended_at = datetime.now(UTC)
    assert (await system.notify.delete("/v1/journeys/lingering", headers=system.admin)).status_code == 204
    for who in devices:
        left = await exited(system, who, "lingering", timeout=WITHIN.total_seconds())
        assert (left["step"], left["exit_reason"]) == ("look", "journey_ended")
        assert datetime.fromisoformat(left["exited_at"]) - ended_at <= WITHIN

    journey = (await system.notify.get("/v1/journeys/lingering", headers=system.admin)).json()
    assert journey["ended_at"] is not None and journey["active"] is False
    r = await put_journey(system, "lingering", lingering())
    assert r.status_code == 409 and r.json()["field"] == "journey_id"
    r = await system.notify.delete("/v1/journeys/lingering", headers=system.admin)
    assert r.status_code == 404 and r.json()["field"] == "journey_id"
    found = await results(system, "lingering")
    assert found["entered"] == {"treatment": 2, "control": 0} and found["exits"] == {"journey_ended": 2}
    assert found["now"] == {} and found["steps"]["look"]["reached"] == 2

    newcomer = await shopper(system, location=True)
    await handled(db, (await enter(system, newcomer))["id"])
    assert await enrollments(system, newcomer) == []


async def test_a_device_whose_entry_commits_as_the_journey_ends_leaves_it_too(
    system: System, db: asyncpg.Connection
) -> None:
    """An entry reads the journey, then commits: when DELETE commits in between, it lets out everyone
    it sees, but not that device, whose enrollment is not committed yet. The runner lets it out."""
    await create_store(system)
    who = await shopper(system, location=True)
    entered = await enter(system, who)
    await handled(db, entered["id"])
    await saved(system, "lingering", lingering())
    assert (await system.notify.delete("/v1/journeys/lingering", headers=system.admin)).status_code == 204

    # What the entry writes, committed just after the end (the bus consumer's own statement).
    await db.execute(
        """
        INSERT INTO notify.enrollments
            (journey_id, version, device_id, arm, store_id, entry_event_id, entered_at, step, ran, wake_at)
        VALUES ('lingering', 1, $1, 'treatment', 'rivoli', $2, now(), 'look', false, now())
        """,
        who.device_id,
        entered["id"],
    )
    left = await exited(system, who, "lingering", timeout=WITHIN.total_seconds())
    assert (left["step"], left["exit_reason"]) == ("look", "journey_ended")


async def test_nobody_enters_a_paused_journey_or_one_outside_its_hours(system: System, db: asyncpg.Connection) -> None:
    await create_store(system)
    # The shop is where it is 3 am now: hours of 09:00 to 19:00 there are closed, whatever UTC says.
    night = timezone_at(3)
    r = await system.geo.put("/v1/stores/rivoli", json={**STORE, "timezone": night}, headers=system.admin)
    assert r.status_code == 200, r.text
    await eventually(lambda: db.fetchval("SELECT true FROM notify.stores WHERE timezone = $1", night))
    shop_hours = {"hours": [{"days": EVERY_DAY, "from": "09:00", "to": "19:00"}]}
    night_hours = {"hours": [{"days": EVERY_DAY, "from": "02:00", "to": "05:00"}]}
    await saved(system, "paused", lingering(active=False))
    await saved(system, "shop-hours", lingering(schedule=shop_hours))
    await saved(system, "night-shift", lingering(schedule=night_hours))
    assert (await system.notify.get("/v1/journeys/paused", headers=system.admin)).json()["active"] is False

    who = await shopper(system, location=True)
    await handled(db, (await enter(system, who))["id"])
    assert [e["journey_id"] for e in await enrollments(system, who)] == ["night-shift"]


def walk_out(start: datetime) -> list[dict[str, Any]]:
    """From the shop's centre 300 m north at 2 m/s (150 s): out for longer than the exit confirmation."""
    return [
        ping(*destination(STORE["lat"], STORE["lng"], 0, d), start + timedelta(seconds=i * 10))
        for i, d in enumerate(range(0, 301, 20))
    ]


async def test_a_device_enters_again_only_as_long_after_its_exit_as_the_journey_says(
    system: System, db: asyncpg.Connection
) -> None:
    await create_store(system)
    await saved(system, "once", lingering("PT1S"))  # reentry: never, by default
    await saved(system, "again", lingering("PT1S", reentry="PT6S"))
    who = await shopper(system, location=True)
    # Three visits, each a walk in (200 s) and out (150 s) of fixes 400 s apart, the last ending a minute ago.
    start = minutes_ago(17.5)
    visit = [start + timedelta(seconds=400 * k) for k in range(3)]

    answer = await upload(system, who, walk_in(visit[0]))
    assert event_of(answer, "zone.entered")
    for journey_id in ("once", "again"):
        assert (await exited(system, who, journey_id))["exit_reason"] == "completed"
    [left] = await enrollments(system, who, "again")
    exited_at = datetime.fromisoformat(left["exited_at"])

    # Back at once: too soon for either.
    answer = await upload(system, who, walk_out(visit[0] + timedelta(seconds=210)) + walk_in(visit[1]))
    await handled(db, event_of(answer, "zone.entered")["id"])
    assert datetime.now(UTC) < exited_at + timedelta(seconds=6)
    assert [len(await enrollments(system, who, j)) for j in ("once", "again")] == [1, 1]

    # Back six seconds after it left: in again, in the arm it had; never in the other.
    await asyncio.sleep((exited_at + timedelta(seconds=6.5) - datetime.now(UTC)).total_seconds())
    answer = await upload(system, who, walk_out(visit[1] + timedelta(seconds=210)) + walk_in(visit[2]))
    await handled(db, event_of(answer, "zone.entered")["id"])
    again = await enrollments(system, who, "again")
    assert len(again) == 2 and again[0]["arm"] == again[1]["arm"]
    assert len(await enrollments(system, who, "once")) == 1


async def test_an_exit_event_takes_the_device_out(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    await saved(system, "welcome", welcome(wait="PT30S", exit_on=["order.reserved"]))
    who = await shopper(system, push, **EVERY_PURPOSE)
    await enter(system, who)
    await enrolled(system, who, "welcome", step="look")

    ordered_at = datetime.now(UTC)
    await place_order(system, who, sku="YOG-1")
    left = await exited(system, who, "welcome")
    assert (left["step"], left["exit_reason"]) == ("look", "exit_event")
    assert datetime.fromisoformat(left["exited_at"]) - ordered_at <= WITHIN
    assert await messages(system, who) == []


# --------------------------------------------------------------------------- the device's own


async def test_the_export_lists_a_devices_enrollments_and_erasure_leaves_an_anonymous_count(
    system: System, db: asyncpg.Connection
) -> None:
    await create_store(system)
    await saved(system, "quick", lingering("PT1S"))
    await saved(system, "lingering", lingering())
    who = await shopper(system, location=True)
    await enter(system, who)
    assert (await exited(system, who, "quick"))["exit_reason"] == "completed"
    await enrolled(system, who, "lingering", step="look")

    r = await system.notify.get(f"/v1/devices/{who.device_id}/export", headers=who.auth)
    assert r.status_code == 200, r.text
    listed = r.json()["notify"]["journeys"]
    assert [(e["journey_id"], e["arm"], e["exit_reason"]) for e in listed] == [
        ("quick", "treatment", "completed"),
        ("lingering", "treatment", None),
    ]
    assert not {"lat", "lng", "latitude", "longitude", "accuracy_m"} & {k for e in listed for k in e}

    r = await system.notify.delete(f"/v1/devices/{who.device_id}", headers=who.auth)
    assert r.status_code == 202, r.text
    assert await db.fetchval("SELECT count(*) FROM notify.enrollments WHERE device_id = $1", who.device_id) == 0
    kept = await db.fetch("SELECT journey_id, device_id, exit_reason FROM notify.enrollments ORDER BY enrollment_id")
    assert [tuple(r) for r in kept] == [("quick", None, "completed"), ("lingering", None, "erased")]
    found = await results(system, "lingering")
    assert found["entered"] == {"treatment": 1, "control": 0} and found["exits"] == {"erased": 1}


async def test_a_devices_enrollments_are_its_own_and_the_operators(system: System) -> None:
    await create_store(system)
    await saved(system, "lingering", lingering())
    who, other = [await shopper(system, location=True) for _ in range(2)]
    await enter(system, who)
    mine = await enrolled(system, who, "lingering")
    path = f"/v1/devices/{who.device_id}/journeys"

    r = await system.notify.get(path, headers=system.admin)
    assert r.status_code == 200 and r.json()["enrollments"] == [mine]
    staff = await staff_member(system)
    for caller in (other.auth, staff.auth):
        r = await system.notify.get(path, headers=caller)
        assert r.status_code == 403, r.text
        # as the device's other routes answer
        assert (await system.notify.get(f"/v1/devices/{who.device_id}/messages", headers=caller)).status_code == 403
    assert (await system.notify.get(path)).status_code == 401
    r = await system.notify.get("/v1/devices/nobody/journeys", headers=system.admin)
    assert r.status_code == 404 and r.json()["field"] == "device_id"
