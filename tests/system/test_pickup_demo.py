"""`accueil demo` against running services: it seeds the demo store with its journeys and plays a
drive-in to the end."""

from __future__ import annotations

import asyncio
from subprocess import PIPE, STDOUT

from tests.conftest import ADMIN_TOKEN, System
from tests.support.processes import accueil


async def test_the_demo_runs_a_pickup_to_completion_and_prints_its_timeline(system: System) -> None:
    env = {"ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN}
    for name in ("geo", "inventory", "notify"):
        env[f"ACCUEIL_{name.upper()}_PORT"] = str(system.settings.port_of(name))
    proc = accueil("demo", "--speed", "40", "--wait-ack", "0", env=env, stdout=PIPE, stderr=STDOUT)
    # Waited for off the event loop: the services the demo talks to run on it.
    printed, _ = await asyncio.to_thread(proc.communicate, timeout=90)
    assert proc.returncode == 0, printed
    assert f"Staff page: {system.settings.notify_url}/staff" in printed
    assert f"Console: {system.settings.notify_url}/console" in printed
    assert f"Shopper page: {system.settings.notify_url}/shop" in printed
    steps = [
        "order is ready",
        "I'm on my way",
        "staff alert: Camille (order ",
        "staff alert: Camille has arrived — bay 2",
        "Alex is on the way out to bay 2",
        "the order is collected",
        "staff alert closed: trip completed",
        "trip completed",
        "Camille's phone: a pickup update, suppressed (no_subscription)",
        "Camille's journey demo-next-day-tip: at step next-day",
        "done",
    ]
    positions = [printed.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), printed

    staff = (await system.notify.get("/v1/stores/demo-rivoli/alerts", headers=system.admin)).json()["alerts"]
    assert [(a["kind"], a["status"], a.get("acked_by_name")) for a in staff] == [
        ("arrived", "closed", "Alex"),
        ("approaching", "closed", None),
    ]

    # The console shows the demo: its campaign decided once for Camille in the bay (she gave no
    # consent to offers), beside her pickup updates.
    console = (await system.notify.get("/v1/console/overview", headers=system.admin)).json()
    [campaign] = [c for c in console["campaigns"] if c["campaign_id"] == "demo-bay"]
    assert (campaign["status"], campaign["product"], campaign["results"]["decided"]) == ("active", "Vegetable box", 1)
    assert campaign["results"]["suppressed"] == {"no_consent": 1}
    assert {(d["purpose"], d["reason"]) for d in console["decisions"]} >= {
        ("offers", "no_consent"),
        ("pickup_updates", "no_subscription"),
    }
    [store] = [s for s in console["stores"] if s["store_id"] == "demo-rivoli"]
    assert {(z["zone_id"], z["kind"]) for z in store["zones"]} == {
        ("shop", "store"),
        ("bay-2", "pickup"),
        ("approach", "approach"),
        ("garden", "department"),
    }

    # Its three journeys, each as the operator would write it, and the console shows them: Camille's
    # collection entered her in the next-day tip's, where she waits for tomorrow.
    r = await system.notify.get("/v1/journeys", headers=system.admin)
    journeys = {j["journey_id"]: j for j in r.json()}
    assert {i: (j["entry"]["event"], j["holdout_percent"], j["active"]) for i, j in journeys.items()} == {
        "demo-garden": ("zone.dwelled", 10, True),
        "demo-pickup-reminder": ("order.ready", 0, True),
        "demo-next-day-tip": ("order.collected", 0, True),
    }
    garden = journeys["demo-garden"]
    assert [s["type"] for s in garden["steps"]] == ["wait", "branch", "wait_for", "message", "exit"]
    assert garden["entry"]["zone_id"] == "garden"
    assert garden["goal"] == {"event": "order.reserved", "within": "PT2H", "sku": "DEMO-COMPOST"}
    [offer] = [s for s in garden["steps"] if s["type"] == "message"]
    assert (offer["purpose"], offer["sku"]) == ("offers", "DEMO-COMPOST")
    reminder = journeys["demo-pickup-reminder"]
    assert [(s["type"], s.get("event")) for s in reminder["steps"]] == [
        ("wait_for", "order.collected"),
        ("message", None),
        ("exit", None),
    ]
    assert reminder["steps"][1]["purpose"] == "pickup_updates"
    tip = journeys["demo-next-day-tip"]
    assert tip["entry"]["sku"] == "DEMO-BOX"
    assert [(s["type"], s.get("for"), s.get("purpose")) for s in tip["steps"]] == [
        ("wait", "P1D", None),
        ("message", None, "product_tips"),
    ]
    for journey in journeys.values():  # French and English
        for step in journey["steps"]:
            if step["type"] == "message":
                assert set(step["message"]) == {"fr", "en"}, step
    [shown] = [j for j in console["journeys"] if j["journey_id"] == "demo-next-day-tip"]
    assert shown["results"]["now"] == {"next-day": 1} and shown["results"]["entered"]["treatment"] == 1
    assert {j["journey_id"] for j in console["journeys"]} == set(journeys)


async def test_the_demo_says_what_to_do_when_nothing_is_running() -> None:
    env = {"ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN, "ACCUEIL_GEO_URL": "http://127.0.0.1:9"}
    proc = accueil("demo", env=env, stdout=PIPE)
    out, _ = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 1
    assert "start `accueil run` first" in out


async def test_a_native_demo_against_a_notify_without_apns_says_how_to_get_one(system: System) -> None:
    env = {"ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN}
    for name in ("geo", "inventory", "notify"):
        env[f"ACCUEIL_{name.upper()}_PORT"] = str(system.settings.port_of(name))
    proc = accueil("demo", "--native", "ios", env=env, stdout=PIPE, stderr=STDOUT)
    printed, _ = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 1, printed
    assert "notify has no APNs configured: start `accueil run --push-standins`" in printed
    assert "Traceback" not in printed and "demo store" not in printed  # stopped before seeding anything
