"""`accueil demo`: a contactless pickup from start to finish, against a running `accueil run`.

It seeds a demo store (its zones, a pickup bay, a garden department, stock, a staff member, an offer
for shoppers in the bay, three journeys: shared/demo_journeys.py), prints the staff page's address and
the staff token to sign in with, and the console's, then plays a shopper who orders, taps "I'm on my
way" and drives in, and prints the timeline as the services see it: the staff alerts come from the
store's live stream, exactly what the staff page shows. After the handover she is in the next-day tip's
journey. Everything goes through the public HTTP API.

The shopper is a web page without a push subscription, or with `--native ios|android` a native app
that registers an APNs or FCM token and consents to offers too: notify then pushes to the stand-in
that `accueil run --push-standins` started, and the demo ends with what the phone was shown, each
notification with the time from the answer to the request that caused it (the staff's "ready", the
ping that put the car in the bay) to the push service receiving it.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from shared import demo_journeys, local_push, local_secrets
from shared.demo_phone import PROVIDER_NAMES, NativePhone, Notification, Platform
from shared.geodesy import destination
from shared.settings import DEFAULT_PORTS, SERVICES, env_name
from shared.sse import sse_messages

STORE_ID = "demo-rivoli"
CENTRE = (48.8600, 2.3470)
BAY = destination(*CENTRE, 90, 40)  # the pickup bay, 40 m east of the shop's door
GARDEN = destination(*CENTRE, 270, 15)  # the garden department, inside the shop, away from the bay
SKU = "DEMO-BOX"
GARDEN_SKU = "DEMO-COMPOST"
CAMPAIGN_ID = "demo-bay"  # an offer to shoppers waiting in the bay: the console shows its funnel
START_M = 1200.0  # the shopper sets off this far east of the bay...
SPEED_MPS = 12.0  # ...driving at 43 km/h: about 100 s away
STEP_S = 2.0  # one GPS fix every 2 s
UPLOAD_EVERY_S = 0.25  # at most four uploads a second, well inside geo's per-device budget


class DemoError(Exception):
    """The running system refused a step: the message says which and why."""


def peer_urls(env: Mapping[str, str]) -> dict[str, str]:
    """Where `accueil run` serves, from the same variables it reads."""
    urls = {}
    for name in SERVICES:
        port = env.get(env_name(f"{name}_port")) or DEFAULT_PORTS[name]
        urls[name] = (env.get(env_name(f"{name}_url")) or f"http://127.0.0.1:{port}").rstrip("/")
    return urls


def data_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("ACCUEIL_DATA_DIR") or ".accueil").resolve()


def admin_token(env: Mapping[str, str]) -> str | None:
    """ACCUEIL_ADMIN_TOKEN, else the one `accueil run` generated into the data dir (never created here)."""
    if env.get("ACCUEIL_ADMIN_TOKEN"):
        return env["ACCUEIL_ADMIN_TOKEN"]
    stored = data_dir(env) / local_secrets.FILE
    if not stored.exists():
        return None
    token: str | None = json.loads(stored.read_text()).get("admin_token")
    return token


def drive(now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """The car's GPS fixes from START_M east of the bay to a stop in it, ±5 m of noise, then parked."""
    fixes, at, left = [], now, START_M
    while left > 0:
        lat, lng = destination(*BAY, 90, left)
        lat, lng = destination(lat, lng, rng.uniform(0, 360), rng.uniform(0, 5))
        fixes.append({"lat": lat, "lng": lng, "accuracy_m": 8, "ts": at.isoformat(), "speed_mps": SPEED_MPS})
        at, left = at + timedelta(seconds=STEP_S), left - SPEED_MPS * STEP_S
    for _ in range(3):
        fixes.append({"lat": BAY[0], "lng": BAY[1], "accuracy_m": 5, "ts": at.isoformat()})
        at += timedelta(seconds=STEP_S)
    return fixes


@dataclass
class Shopper:
    device_id: str
    token: str
    standin: dict[str, str] | None = None
    """Native: the stand-in her phone's pushes go to (its description, shared/local_push.py)."""


@dataclass(frozen=True)
class Trigger:
    """A request of the demo's that made an event: when its answer came (time.time()), and the event."""

    at: float
    event: str


@dataclass
class Demo:
    urls: dict[str, str]
    admin: str
    speed: float = 1.0
    """How much faster than real time the car drives (the fixes keep their own, real spacing)."""
    wait_ack_s: float = 30.0
    """How long to leave for someone to press "On my way out" on /staff before the demo does."""
    phone: NativePhone | None = None
    """The shopper's native app; None: a web page."""
    data_dir: Path = field(default_factory=lambda: Path(".accueil").resolve())
    say: Callable[[str], None] = print
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10))
    started: float = field(default_factory=time.monotonic)
    wall_started: float = field(default_factory=time.time)
    triggers: dict[int, Trigger] = field(default_factory=dict)
    """The events the car's pings made, by event id."""
    ready: Trigger | None = None

    def log(self, text: str) -> None:
        self.say(f"{time.monotonic() - self.started:6.1f}s  {text}")

    async def call(self, method: str, service: str, path: str, token: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
        response = await self.http.request(method, f"{self.urls[service]}{path}", headers=headers, **kw)
        if response.status_code >= 400:
            raise DemoError(f"{method} {service}{path} answered {response.status_code}: {response.text}")
        return response.json() if response.content else None

    async def check_running(self) -> None:
        for name, url in self.urls.items():
            try:
                ready = (await self.http.get(f"{url}/readyz")).status_code == 200
            except httpx.HTTPError:
                ready = False
            if not ready:
                raise DemoError(f"{name} is not answering at {url}: start `accueil run` first (in another terminal)")

    async def seed(self) -> dict[str, Any]:
        """The demo store: a shop, its pickup bay 2 and the approach around it, stock, one staff member."""
        admin = self.admin
        await self.call(
            "PUT",
            "geo",
            f"/v1/stores/{STORE_ID}",
            admin,
            json={"name": "Rivoli (demo)", "lat": CENTRE[0], "lng": CENTRE[1]},
        )
        garden = {"lat": GARDEN[0], "lng": GARDEN[1], "radius_m": 10}
        zones = {
            "shop": {"kind": "store", "circle": {"lat": CENTRE[0], "lng": CENTRE[1], "radius_m": 30}},
            "bay-2": {"kind": "pickup", "name": "bay 2", "circle": {"lat": BAY[0], "lng": BAY[1], "radius_m": 15}},
            "approach": {"kind": "approach", "circle": {"lat": CENTRE[0], "lng": CENTRE[1], "radius_m": 600}},
            demo_journeys.GARDEN_ZONE: {
                "kind": "department",
                "name": "garden",
                "dwell_s": demo_journeys.GARDEN_DWELL_S,
                "circle": garden,
            },
        }
        for zone_id, zone in zones.items():
            await self.call("PUT", "geo", f"/v1/stores/{STORE_ID}/zones/{zone_id}", admin, json=zone)
        products = {
            SKU: ({"name": "Vegetable box", "category": "fresh", "names": {"fr": "Panier de légumes"}}, 20),
            GARDEN_SKU: ({"name": "Potting compost 40 L", "category": "garden", "names": {"fr": "Terreau 40 L"}}, 12),
        }
        for sku, (product, on_hand) in products.items():
            await self.call("PUT", "inventory", f"/v1/products/{sku}", admin, json=product)
            await self.call("PUT", "inventory", f"/v1/stores/{STORE_ID}/stock/{sku}", admin, json={"on_hand": on_hand})
        await self.seed_campaign()
        await self.seed_journeys()
        staff: dict[str, Any] = await self.call(
            "POST", "notify", f"/v1/stores/{STORE_ID}/staff", admin, json={"name": "Alex"}
        )
        self.log(
            f"demo store {STORE_ID!r} ready: shop, pickup zone 'bay 2', garden department, approach zone, "
            "20 vegetable boxes, 12 bags of compost"
        )
        self.log(f"journeys: {', '.join(demo_journeys.journeys(STORE_ID, GARDEN_SKU, SKU))} (on the console)")
        self.say("")
        self.say(f"  Staff page: {self.urls['notify']}/staff")
        self.say(f"  Sign in as Alex with this token: {staff['token']}")
        self.say(f"  Console: {self.urls['notify']}/console (sign in with the admin token)")
        self.say(f"  Shopper page: {self.urls['notify']}/shop (play a shopper of the store yourself)")
        self.say("")
        return staff

    async def seed_campaign(self) -> None:
        body = {
            "trigger": {"type": "zone.entered", "store_id": STORE_ID, "zone_kind": "pickup"},
            "sku": SKU,
            "message": {"en": {"title": "While you wait", "body": "{product}: one more for the road?"}},
        }
        await self.put_once_notify_knows(f"/v1/campaigns/{CAMPAIGN_ID}", body)

    async def seed_journeys(self) -> None:
        for journey_id, body in demo_journeys.journeys(STORE_ID, GARDEN_SKU, SKU).items():
            await self.put_once_notify_knows(f"/v1/journeys/{journey_id}", body)

    async def put_once_notify_knows(self, path: str, body: dict[str, Any]) -> None:
        """notify knows a product from inventory's events, a moment after inventory has it: until then
        what names it is refused (422 naming the sku), so it is asked again for a few seconds."""
        deadline = time.monotonic() + 15
        while True:
            try:
                await self.call("PUT", "notify", path, self.admin, json=body)
                return
            except DemoError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def watch(self, staff: dict[str, Any], alerts: dict[int, dict[str, Any]], changed: asyncio.Event) -> None:
        """The store's live stream, as the staff page gets it."""
        url = f"{self.urls['notify']}/v1/stores/{STORE_ID}/alerts/stream"
        headers = {"Authorization": f"Bearer {staff['token']}"}
        async with self.http.stream("GET", url, headers=headers, timeout=None) as response:
            async for message in sse_messages(response.aiter_lines()):
                alert = message.json()
                before = alerts.get(alert["alert_id"])
                alerts[alert["alert_id"]] = alert
                changed.set()
                if message.event == "alert":
                    self.log(f"staff alert: {alert['text']}")
                elif alert.get("acked_at") and not (before and before.get("acked_at")):
                    who = alert.get("acked_by_name") or alert["acked_by"]
                    self.log(f"staff: {who} is on the way out to {alert.get('bay') or 'the pickup point'}")
                elif alert.get("closed_at") and not (before and before.get("closed_at")):
                    self.log(f"staff alert closed: trip {alert['outcome']}")

    async def until(self, changed: asyncio.Event, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            changed.clear()
            try:
                await asyncio.wait_for(changed.wait(), left)
            except TimeoutError:
                return done()
        return True

    async def run(self) -> None:
        await self.check_running()
        camille = await self.register()  # first: a native demo that cannot be played stops before seeding
        staff = await self.seed()
        alerts: dict[int, dict[str, Any]] = {}
        changed = asyncio.Event()
        watcher = asyncio.create_task(self.watch(staff, alerts, changed))
        try:
            await self.pickup(camille, staff, alerts, changed)
            await self.journeys_of(camille)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    async def register(self) -> Shopper:
        """Camille's device, its push target if it is a native app, her consents. The web shopper
        consents to pickup updates only; the native app, as an app that sees the store's beacons
        would be, to location and offers too."""
        platform = self.phone.platform if self.phone else "web"
        device = (
            await self.http.post(
                f"{self.urls['notify']}/v1/devices",
                json={"platform": platform, "locale": "en-GB", "timezone": "Europe/Paris"},
            )
        ).json()
        camille = Shopper(device["device_id"], device["token"])
        if self.phone:
            camille.standin = await self.push_to(self.phone, camille)
        purposes = {"location": bool(self.phone), "pickup_updates": True, "offers": bool(self.phone)}
        await self.call(
            "PUT",
            "notify",
            f"/v1/devices/{camille.device_id}/consents",
            camille.token,
            json={"policy_version": "demo", "purposes": purposes},
        )
        return camille

    async def push_to(self, phone: NativePhone, camille: Shopper) -> dict[str, str]:
        """The app's token for APNs or FCM, and the stand-in that will be sent its pushes."""
        response = await self.http.put(
            f"{self.urls['notify']}/v1/devices/{camille.device_id}/push-token",
            json={"provider": phone.provider, "token": phone.token},
            headers={"Authorization": f"Bearer {camille.token}"},
        )
        provider = PROVIDER_NAMES[phone.provider]
        if response.status_code == 422 and response.json().get("field") == "provider":
            raise DemoError(
                f"notify has no {provider} configured: start `accueil run --push-standins` (local APNs and FCM "
                f'stand-ins), or give notify the real {provider} (README, "Native apps: APNs and FCM")'
            )
        if response.status_code >= 400:
            raise DemoError(f"PUT notify/v1/devices/.../push-token answered {response.status_code}: {response.text}")
        standin = local_push.description(self.data_dir, phone.provider)
        if standin is None:
            raise DemoError(
                f"notify pushes to {provider}, but no {provider} stand-in serves from {self.data_dir}: the native "
                "demo reads what the phone was shown there; start `accueil run --push-standins`"
            )
        return standin

    async def pickup(
        self, camille: Shopper, staff: dict[str, Any], alerts: dict[int, dict[str, Any]], changed: asyncio.Event
    ) -> None:
        shopper = camille.token
        order = await self.call(
            "POST",
            "inventory",
            "/v1/orders",
            shopper,
            json={"store_id": STORE_ID, "lines": [{"sku": SKU, "qty": 1}], "display_name": "Camille"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        order_id = order["order_id"]
        self.log(f"Camille orders a vegetable box for pickup: {order_id} ({order['status']})")
        await self.call("POST", "inventory", f"/v1/orders/{order_id}/ready", staff["token"])
        self.ready = Trigger(time.time(), "order.ready")
        self.log("Alex has prepared it: the order is ready")
        trip = await self.call(
            "POST", "geo", "/v1/trips", shopper, json={"order_id": order_id, "store_id": STORE_ID, "mode": "car"}
        )
        self.log(
            f'Camille taps "I\'m on my way": trip {trip["trip_id"]} {trip["status"]}, {START_M / 1000:.1f} km away'
        )

        fixes = drive(datetime.now(UTC), random.Random(7))
        sent, next_note = 0, 0.0
        started = time.monotonic()
        while sent < len(fixes):
            due = min(len(fixes), 1 + int((time.monotonic() - started) * self.speed / STEP_S))
            if due > sent:
                answer = await self.call("POST", "geo", "/v1/pings", shopper, json={"pings": fixes[sent:due]})
                at = time.time()
                self.triggers.update({e["id"]: Trigger(at, e["type"]) for e in answer["events"]})
                sent = due
                if time.monotonic() >= next_note and sent < len(fixes):
                    status = await self.call("GET", "geo", f"/v1/trips/{trip['trip_id']}", shopper)
                    if status.get("distance_m") is not None:
                        left, eta = status["distance_m"], status.get("eta_s", 0)
                        self.log(f"driving: {left:.0f} m to go, ETA {eta} s ({status['status']})")
                    next_note = time.monotonic() + 15 / self.speed
            await asyncio.sleep(UPLOAD_EVERY_S)

        def arrived() -> bool:
            return any(a["kind"] == "arrived" for a in alerts.values())

        if not await self.until(changed, arrived, 15):
            raise DemoError("the arrival alert did not come")

        def acked() -> bool:
            return any(a.get("acked_at") for a in alerts.values())

        if self.wait_ack_s > 0 and not acked():
            self.log(f'waiting up to {self.wait_ack_s:.0f} s for someone to press "On my way out" on /staff')

        if not await self.until(changed, acked, self.wait_ack_s):
            arrival = max((a for a in alerts.values() if a["kind"] == "arrived"), key=lambda a: a["alert_id"])
            await self.call("POST", "notify", f"/v1/alerts/{arrival['alert_id']}/ack", staff["token"])
            await self.until(changed, acked, 10)
        # Said before the call: the staff stream printing the alert closed may otherwise come first.
        self.log("Alex hands the box over: the order is collected")
        await self.call("POST", "inventory", f"/v1/orders/{order_id}/collected", staff["token"])

        def closed() -> bool:
            return all(a.get("closed_at") for a in alerts.values())

        await self.until(changed, closed, 15)
        trip_now = await self.call("GET", "geo", f"/v1/trips/{trip['trip_id']}", shopper)
        self.log(f"trip {trip_now['status']}")
        messages = await self.settled(camille)
        shown = await self.shown_on_phone(camille, messages) if self.phone else set()
        for m in messages:
            if m["id"] in shown:
                continue
            if m.get("body"):
                self.log(f"Camille's phone: “{m['title']}: {m['body']}” ({m['status']})")
            else:  # nothing is said, so nothing is kept but the decision and its reason
                what = "an offer" if m["purpose"] == "offers" else "a pickup update"
                self.log(f"Camille's phone: {what}, {m['status']} ({m.get('reason')})")
        if not self.phone and any(m.get("reason") == "no_subscription" for m in messages):
            self.log("(the demo shopper has no browser to subscribe to Web Push: nothing could reach her phone)")
        if not closed():
            raise DemoError("the staff alerts were not closed after the handover")

    async def journeys_of(self, camille: Shopper) -> None:
        """Where Camille stands in the store's journeys, once her collection has entered her in the
        next-day tip's (a moment after the handover)."""
        deadline = time.monotonic() + 10
        while True:
            answer = await self.call("GET", "notify", f"/v1/devices/{camille.device_id}/journeys", camille.token)
            enrollments: list[dict[str, Any]] = answer["enrollments"]
            if any(e["journey_id"] == demo_journeys.NEXT_DAY_TIP for e in enrollments) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        for e in enrollments:
            where = f"at step {e['step']}" if e["exited_at"] is None else f"left at {e['step']} ({e['exit_reason']})"
            self.log(f"Camille's journey {e['journey_id']}: {where}")

    async def settled(self, camille: Shopper) -> list[dict[str, Any]]:
        """Camille's messages, oldest first, once none is still on its way (a moment after the story)."""
        deadline = time.monotonic() + 15
        while True:
            answer = await self.call("GET", "notify", f"/v1/devices/{camille.device_id}/messages", camille.token)
            messages: list[dict[str, Any]] = list(reversed(answer["messages"]))
            if time.monotonic() > deadline or not any(m["status"] in ("pending", "sending") for m in messages):
                return messages
            await asyncio.sleep(0.2)

    async def shown_on_phone(self, camille: Shopper, messages: list[dict[str, Any]]) -> set[int]:
        """What the native app's phone showed, as the stand-in received it, each with the time since
        the request that caused it; each reported `shown` to notify, as the app does. The ids shown."""
        assert self.phone is not None and camille.standin is not None
        provider = PROVIDER_NAMES[self.phone.provider]
        try:
            received = await self.phone.received(camille.standin)
        except httpx.HTTPError as exc:
            raise DemoError(
                f"the {provider} stand-in at {camille.standin['url']} did not answer ({type(exc).__name__}):"
                " is `accueil run --push-standins` still running?"
            ) from exc
        by_id = {m["id"]: m for m in messages}
        self.log(f"Camille's {self.phone.name} showed (as the {provider} stand-in received them):")
        for shown in received:
            message = by_id.get(shown.message_id)
            self.say(f"{shown.received_at - self.wall_started:6.1f}s    {self.as_shown(shown, message)}")
            if message is not None:  # shown now, as the demo looks at the phone
                events = f"/v1/messages/{message['id']}/events"
                body = {"type": "shown", "ts": datetime.now(UTC).isoformat()}
                await self.call("POST", "notify", events, camille.token, json=body)
        return {shown.message_id for shown in received if shown.message_id is not None}

    def as_shown(self, shown: Notification, message: dict[str, Any] | None) -> str:
        """“Title” body (0.05 s after trip.arrived)."""
        trigger = None
        if message is not None:
            # A pickup update not made by a ping is the order's "ready".
            trigger = self.triggers.get(message["event_id"])
            trigger = trigger or (self.ready if message["purpose"] == "pickup_updates" else None)
        after = f"  ({shown.received_at - trigger.at:.2f} s after {trigger.event})" if trigger else ""
        return f"“{shown.title}” {shown.body}{after}"


async def run(env: Mapping[str, str], speed: float, wait_ack_s: float, native: Platform | None = None) -> int:
    token = admin_token(env)
    if token is None:
        print("No admin token: set ACCUEIL_ADMIN_TOKEN, or run `accueil run` first (it keeps one in ACCUEIL_DATA_DIR).")
        return 2
    phone = NativePhone(native) if native else None
    demo = Demo(peer_urls(env), token, speed=speed, wait_ack_s=wait_ack_s, phone=phone, data_dir=data_dir(env))
    try:
        async with demo.http:
            await demo.run()
    except DemoError as exc:
        print(f"demo stopped: {exc}")
        return 1
    demo.log("done: that is a contactless pickup")
    return 0
