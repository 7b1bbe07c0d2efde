"""notify benchmarks: prints figures, asserts nothing.

    python bench/notify.py              # every part
    python bench/notify.py decide       # (a) the pure offer decision
    python bench/notify.py deliver      # (b) Web Push delivery through the sender, (c) the sender loop alone
    python bench/notify.py native       # (d) APNs and FCM through the sender
    python bench/notify.py latency      # (e) ping to push, alone and under 10,000 pings/s (bench/latency.py)

(a) decides 100,000 offers for shoppers with 20 recent messages each (duplicates, caps and quiet
    hours all evaluated), in-process.
(b) starts an embedded PostgreSQL in a temporary folder and the Web Push stand-in of the tests in a
    process of its own (bench/push_standin.py: it checks each push's VAPID JWT and decrypts it, as a
    browser would), queues N due messages for N subscribed devices, and delivers them from this
    process, which plays one notify process: its sender and Web Push channel, on uvloop as the service
    runs. Then the same with two senders on two pools (as two replicas would) sharing the work through
    FOR UPDATE SKIP LOCKED, still in this one process. So the machine's two cores are shared by the
    sender on one side, the stand-in and PostgreSQL on the other. Beside it, in the same run, the
    floor: encrypting the same payload with a fresh ECDH key (aes128gcm), the one thing per message a
    sender cannot avoid, on one core. Messages the stand-in got more than once are counted (it should
    say 0).
(c) the same messages through the sender with a channel that answers at once: what the sender loop
    itself (claims, settles, the window) costs per message, whatever the push protocol.
(d) APNs, then FCM, through one sender with the real channel (made from the settings as notify makes
    it), to the stand-in of the tests in a process of its own (tests/support/push_standins.py: real TLS
    and HTTP/2, the JWT or access token checked): N due messages for N devices with a device token,
    on the same database setup as (b). Then, in the same run, the bare HTTP/2 client
    (bench/h2_client.py) sends the same number of equivalent requests (the same headers and body
    as the channel builds for these messages) to the same stand-in process, as many in flight as the
    sender allows: the ceiling the sender is read against. Messages the stand-in got more than once
    are counted (it should say 0).
(e) the wait a shopper feels, from geo's answer to the ping that enters a store zone to the push
    service receiving the offer, with the services as separate processes, alone and while other phones
    post 10,000 pings/s: bench/latency.py (`python bench/notify.py latency --help`).
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import http_ece  # noqa: E402
import uvloop  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from bench import latency  # noqa: E402
from bench.h2_client import load  # noqa: E402
from bench.measure import best_of, cpu_s  # noqa: E402
from bench.native_push import channel_to, prepared  # noqa: E402
from bench.push_standin import StandIn  # noqa: E402
from bench.report import figure  # noqa: E402
from services.notify.app import DELIVERY_KINDS  # noqa: E402
from services.notify.offers.decide import Offer, decide_offer  # noqa: E402
from services.notify.outbox import repository as repo  # noqa: E402
from services.notify.outbox.delivery import topic_of  # noqa: E402
from services.notify.outbox.kinds import DeliveryKinds  # noqa: E402
from services.notify.outbox.sender import WINDOW, Sender  # noqa: E402
from services.notify.policy.decide import Moment, Past, Policy, Recipient  # noqa: E402
from services.notify.policy.purposes import OFFERS  # noqa: E402
from services.notify.push import vapid  # noqa: E402
from services.notify.push.channel import Answer, Channel, Provider, Push, Target  # noqa: E402
from services.notify.push.channels import Channels  # noqa: E402
from services.notify.push.egress import tls_context  # noqa: E402
from services.notify.push.push_urls import PushServices  # noqa: E402
from services.notify.push.webpush import WebPushChannel, document, payload_of, push_session  # noqa: E402
from services.notify.replicas.products import ProductInfo  # noqa: E402
from services.notify.settings import NotifySettings  # noqa: E402
from shared.app import migrate  # noqa: E402
from shared.cli import service_spec  # noqa: E402
from shared.db import Database, connect, create_pool  # noqa: E402
from shared.embedded_pg import EmbeddedPostgres  # noqa: E402
from shared.sealed import Sealer  # noqa: E402
from tests.support.apns_service import device_token  # noqa: E402
from tests.support.fcm_service import registration_token  # noqa: E402
from tests.support.push_standins import StandInProcess  # noqa: E402

MESSAGES = {"fr": ("Bienvenue", "{product} à -20 %"), "en": ("Welcome", "{product} at 20% off")}

TITLE = "Bienvenue chez Rivoli"
BODY = "Yaourt nature à -20 % aujourd'hui, au rayon frais : montrez ce message en caisse."
"""What each benchmark message says: with its ids, a payload of about 200 bytes to encrypt."""
DELIVER = 10_000
WARM_UP = 500
URGENCY = DeliveryKinds(DELIVERY_KINDS).urgency(OFFERS)
SEALER = Sealer("bench-token-key-0123456789-0123456789", 1)
"""Seals the VAPID key the bench's own database keeps between runs."""


def bench_decide(n: int = 100_000) -> None:
    rng = random.Random(7)
    now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    stores = [f"s{i}" for i in range(10)]
    zones = ["Europe/Paris", "America/New_York", "Asia/Tokyo"]
    shoppers = [
        Recipient(
            consents={"offers": True},
            locale=rng.choice(["fr-FR", "en-GB", "de-DE"]),
            timezone=rng.choice(zones),
            subscribed=True,
            recent=tuple(
                Past(i, OFFERS, rng.choice(stores), f"P{rng.randrange(50)}", now - timedelta(hours=rng.uniform(1, 190)))
                for i in range(20)
            ),
        )
        for _ in range(1000)
    ]
    product = ProductInfo("P1", "Plain yoghurt", 3, {"fr": "Yaourt nature"})
    offers = [Offer(MESSAGES, "P1", product, None), Offer(MESSAGES, "P1", ProductInfo("P1", "x", 0), product)]
    policy = Policy(offers_per_store_day=3, offers_per_week=30)
    start = time.perf_counter()
    said = Counter()
    for i in range(n):
        d = decide_offer(offers[i % 2], shoppers[i % 1000], Moment(i, stores[i % 10], now), policy)
        said[d.reason or d.status] += 1
    elapsed = time.perf_counter() - start
    figure("notify.decisions_per_s", n / elapsed, "decisions/s")
    print(f"(a) decide: {n / elapsed:,.0f} decisions/s ({elapsed * 1e6 / n:.1f} µs each); outcomes {dict(said)}")


# --- (b), (c) and (d): delivery through the sender ---


class PushService(Protocol):
    """What a delivery run needs of the push service it sends to, whatever the protocol."""

    @property
    def pid(self) -> int: ...

    async def targets(self, server_key: str, count: int) -> list[Target]:
        """Push targets of `count` new devices (Web Push subscriptions are made for the VAPID key)."""
        ...

    async def clear(self) -> None:
        """From now on, count afresh what is received."""
        ...


class AtOnce:
    """A channel that takes every push at once: the sender loop with nothing behind it."""

    provider: Provider = "webpush"

    def origin(self, target: Target) -> str:
        return "http://bench"

    def refusal(self, target: Target) -> str | None:
        return None

    async def send(self, push: Push) -> Answer:
        await asyncio.sleep(0)
        return Answer("accepted", 201)

    async def close(self) -> None:
        pass


class NativeStandIn:
    """An APNs or FCM stand-in in its process (tests/support/push_standins.py) as a delivery run uses it:
    new device tokens, and its counts since `clear`."""

    def __init__(self, standin: StandInProcess) -> None:
        self.standin = standin
        self._before: dict[str, int] = {}

    @property
    def pid(self) -> int:
        return self.standin.pid

    async def targets(self, server_key: str, count: int) -> list[Target]:
        if self.standin.kind == "apns":
            return [Target("apns", device_token(), environment="production") for _ in range(count)]
        return [Target("fcm", registration_token()) for _ in range(count)]

    async def clear(self) -> None:
        self._before = await self.standin.stats()

    async def received(self) -> dict[str, int]:
        """{"received", "delivered", "duplicates"} since `clear`."""
        now = await self.standin.stats()
        return {k: v - self._before.get(k, 0) for k, v in now.items()}


PLATFORMS = {"webpush": "web", "apns": "ios", "fcm": "android"}


async def _queue(dsn: str, targets: list[Target], prefix: str) -> None:
    """One due offer for each of these devices, each with its push target."""
    conn = await connect(dsn)
    try:
        ids = [f"{prefix}-{i}" for i in range(len(targets))]
        await conn.execute(
            "INSERT INTO notify.devices (device_id, platform, locale, timezone)"
            " SELECT unnest($1::text[]), unnest($2::text[]), 'fr', 'UTC'",
            ids,
            [PLATFORMS[t.provider] for t in targets],
        )
        await conn.execute(  # the sender checks the consent again before each push
            "INSERT INTO notify.consents (device_id, offers, policy_version) SELECT unnest($1::text[]), true, 'bench'",
            ids,
        )
        await conn.execute(
            """
            INSERT INTO notify.push_targets (recipient_kind, recipient_id, provider, address, p256dh, auth,
                                             environment)
            SELECT 'device', d, v, a, p, k, e
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t (d, v, a, p, k, e)
            """,
            ids,
            [t.provider for t in targets],
            [t.address for t in targets],
            [t.p256dh for t in targets],
            [t.auth for t in targets],
            [t.environment for t in targets],
        )
        await conn.execute(
            """
            INSERT INTO notify.messages (device_id, event_id, purpose, status, store_id, sku, locale, title, body,
                                         topic, next_attempt_at, expires_at)
            SELECT d, (SELECT coalesce(max(event_id), 0) FROM notify.messages) + ord, 'offers', 'pending', 'rivoli',
                   'YOG-1', 'fr', $3, $4, t, now(), now() + interval '15 minutes'
            FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x (d, t, ord)
            """,
            ids,
            [topic_of("bench", d) for d in ids],
            TITLE,
            BODY,
        )
    finally:
        await conn.close()


async def _clean(dsn: str) -> None:
    conn = await connect(dsn)
    try:
        await conn.execute("TRUNCATE notify.messages, notify.push_targets, notify.devices CASCADE")
    finally:
        await conn.close()


async def _drain(senders: list[Sender]) -> list[int]:
    """Every due message through these senders, as their loops would: claim until nothing is due, then
    stop, which waits for the sends still out and their settling. How many each took."""

    async def one(sender: Sender) -> int:
        done = 0
        while taken := await sender.run_once():
            done += taken
        await sender.stop()
        return done

    return await asyncio.gather(*(one(s) for s in senders))


@dataclass(frozen=True)
class Bed:
    """What a delivery run sends through: the database (and its postmaster, whose backends' CPU is
    counted) and the push service."""

    dsn: str
    postmaster: int
    service: PushService


async def _deliver(
    bed: Bed, senders: int, n: int, channel: Callable[[vapid.VapidKeys], Channel], label: str
) -> dict[str, Any]:
    """n messages through `senders` senders (each with its own pool and channel); the figures."""
    config = NotifySettings()
    kinds = DeliveryKinds(DELIVERY_KINDS)
    dsn, service = bed.dsn, bed.service
    pools = [Database(await create_pool(dsn, min_size=4, max_size=4, timeout_s=10), dsn) for _ in range(senders)]
    keys = await vapid.load(pools[0], config, SEALER)
    channels = [Channels([channel(keys)]) for _ in range(senders)]

    def make_senders() -> list[Sender]:
        return [Sender(db, config, ch, poll_s=1.0, kinds=kinds) for db, ch in zip(pools, channels, strict=True)]

    # Warm-up, untimed: connections to the database and the stand-in opened, code paths run once.
    await _queue(dsn, await service.targets(keys.public_key, WARM_UP), "warm")
    await _drain(make_senders())
    await _clean(dsn)
    await _queue(dsn, await service.targets(keys.public_key, n), "bench")
    await service.clear()
    timed = make_senders()
    pids = {"standin": [service.pid], "sender": [os.getpid()]}
    before = {k: cpu_s(v) for k, v in pids.items()} | {"postgres": cpu_s([bed.postmaster], children=True)}
    start = time.perf_counter()
    per_sender = await _drain(timed)
    elapsed = time.perf_counter() - start
    used = {k: cpu_s(v) - before[k] for k, v in pids.items()} | {
        "postgres": cpu_s([bed.postmaster], children=True) - before["postgres"]
    }
    conn = await connect(dsn)
    try:
        outcomes = dict(await conn.fetch("SELECT status, count(*) FROM notify.messages GROUP BY status"))
        left = await repo.next_due(conn)
    finally:
        await conn.close()
    await _clean(dsn)
    for db, ch in zip(pools, channels, strict=True):
        await ch.close()
        await db.close()
    return {
        "label": label,
        "senders": senders,
        "rate": n / elapsed,
        "per_sender": per_sender,
        "outcomes": outcomes,
        "left": left,
        "cpu_us": {k: v / n * 1e6 for k, v in used.items()},
    }


def encryption_floor(payload: bytes, n: int = 2_000) -> float:
    """aes128gcm of `payload` with a fresh ECDH key each time, on one core: messages/s."""
    receiver = ec.generate_private_key(ec.SECP256R1()).public_key()
    dh = receiver.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    auth = os.urandom(16)

    def encrypt_n() -> None:
        for _ in range(n):
            key = ec.generate_private_key(ec.SECP256R1())
            http_ece.encrypt(payload, private_key=key, dh=dh, auth_secret=auth, version="aes128gcm")

    return n / best_of(3, encrypt_n)


def bench_push(message_id: int, target: Target) -> Push:
    """What the sender makes of one benchmark message (see _queue)."""
    return Push(
        message_id=message_id,
        purpose=OFFERS,
        target=target,
        title=TITLE,
        body=BODY,
        locale="fr",
        topic=topic_of("bench", f"bench-{message_id}"),
        expires_at=datetime.now(UTC) + timedelta(minutes=15),
        urgency=URGENCY,
        store_id="rivoli",
        sku="YOG-1",
    )


def bench_payload() -> bytes:
    """The payload the sender encrypts for one benchmark message."""
    return payload_of(document(bench_push(123_456, Target("webpush", "http://bench"))))


def _report(run: dict[str, Any], n: int) -> None:
    cpu = run["cpu_us"]
    sent = run["outcomes"].get("sent", 0)
    print(
        f"    {run['label']}, {run['senders']} sender(s): {run['rate']:>6,.0f} messages/s; {sent} sent of {n}"
        f" (per sender {run['per_sender']}, statuses {run['outcomes']}); left due: {run['left']}"
    )
    print(
        f"        CPU per message: sender {cpu['sender']:,.0f} us, stand-in {cpu['standin']:,.0f} us,"
        f" postgres {cpu['postgres']:,.0f} us"
    )


@asynccontextmanager
async def notify_database() -> AsyncIterator[tuple[str, int]]:
    """An embedded PostgreSQL in a temporary folder with notify's schema: its DSN and its postmaster's pid."""
    data_dir = Path(tempfile.mkdtemp(prefix="accueil-bench-notify-"))
    server = EmbeddedPostgres(data_dir)
    try:
        dsn = server.start()
        conn = await connect(dsn)
        await migrate(conn, service_spec("notify"))
        await conn.close()
        yield dsn, int((server.pgdata / "postmaster.pid").read_text().split()[0])
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def as_notify_collects() -> None:
    """As notify does once started (shared/app.py): what start-up built out of the collector's sight,
    and the young generation collected every 50,000 allocations rather than every 700."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000)


async def bench_deliver(n: int = DELIVER) -> None:
    standin = StandIn()
    try:
        async with notify_database() as (dsn, postmaster):
            await _deliver_web_push(Bed(dsn, postmaster, standin), standin, n)
    finally:
        await standin.close()


async def _deliver_web_push(bed: Bed, standin: StandIn, n: int) -> None:
    endpoints = PushServices.from_hosts([standin.host])
    timeout_s = NotifySettings().push_timeout_s

    def web_push(keys: vapid.VapidKeys) -> Channel:
        return WebPushChannel(endpoints, keys, push_session(endpoints, timeout_s), timeout_s)

    as_notify_collects()
    payload = bench_payload()
    floor = figure("notify.webpush.encryption_floor", encryption_floor(payload), "messages/s")
    print(
        f"(b) Web Push delivery, {n:,} messages; the floor, aes128gcm of the same {len(payload)}-byte payload"
        f" with a fresh ECDH key, one core: {floor:,.0f}/s ({1e6 / floor:.0f} us each)"
    )
    runs = {}
    for senders in (1, 2):
        runs[senders] = run = await _deliver(bed, senders, n, web_push, "Web Push")
        got = await standin.received()
        _report(run, n)
        print(
            f"        the stand-in took {got['pushes']:,} pushes for {got['messages']:,} messages:"
            f" received twice: {got['twice']}; refused: {got['refused']} {got['refusals']}"
        )
        figure(f"notify.webpush.{senders}_senders", run["rate"], "messages/s")
        figure(f"notify.webpush.{senders}_senders.received_twice", got["twice"], "messages")
        figure(f"notify.webpush.{senders}_senders.sender_cpu_per_message", run["cpu_us"]["sender"], "us")
    one = runs[1]
    ratio = figure("notify.webpush.to_floor", one["rate"] / floor, "ratio")
    in_floors = one["cpu_us"]["sender"] * floor / 1e6
    print(
        f"    one sender: {ratio:.2f} of the encryption floor (target 0.3); two senders in one process:"
        f" {runs[2]['rate'] / one['rate']:.2f}x one"
    )
    print(
        f"    the sender's CPU per message is {in_floors:.1f} floors (the encryption is one of them), and it"
        f" was busy {one['rate'] * one['cpu_us']['sender'] / 1e6:.0%} of the time"
    )

    loop = await _deliver(bed, 1, n, lambda keys: AtOnce(), "(c) sender loop alone")
    _report(loop, n)
    figure("notify.sender_loop", loop["rate"], "messages/s")
    print(
        f"    the loop alone: {1e6 / loop['rate']:.0f} us per message; APNs and FCM need 5,000 messages/s"
        " with ~100 us of their own channel's per request"
    )


# --- (d) APNs and FCM ---


async def bench_native(n: int = DELIVER) -> None:
    """APNs and FCM messages/s per notify process through the sender with the real channel, and the
    ratio to the bare HTTP/2 client sending the same number of equivalent requests to the same stand-in."""
    as_notify_collects()
    async with notify_database() as (dsn, postmaster):
        for kind in ("apns", "fcm"):
            with tempfile.TemporaryDirectory(prefix=f"accueil-bench-{kind}-") as directory:
                async with StandInProcess(kind, Path(directory)) as standin:
                    await _deliver_native(Bed(dsn, postmaster, NativeStandIn(standin)), standin, n)


async def _deliver_native(bed: Bed, standin: StandInProcess, n: int) -> None:
    kind = standin.kind
    name = {"apns": "APNs", "fcm": "FCM"}[kind]
    assert isinstance(bed.service, NativeStandIn)
    run = await _deliver(bed, 1, n, lambda keys: channel_to(standin), name)
    got = await bed.service.received()
    bare = await _bare_client(bed.service, n)
    ratio = run["rate"] / bare["rate"]
    print(f"(d) {name}, {n:,} messages through one sender to the stand-in in its own process:")
    _report(run, n)
    print(
        f"        the stand-in took {got['received']:,} requests, delivered {got['delivered']:,}:"
        f" received twice: {got['duplicates']}"
    )
    print(
        f"    bare HTTP/2 client, {n:,} equivalent requests, {WINDOW} in flight: {bare['rate']:>6,.0f} requests/s;"
        f" {bare['accepted']} accepted; CPU per request: client {bare['client_us']:,.0f} us,"
        f" stand-in {bare['standin_us']:,.0f} us"
    )
    print(
        f"    one sender: {ratio:.2f} of the bare client (target 0.5) at {run['rate']:,.0f} messages/s (target 5,000)"
    )
    figure(f"notify.{kind}.1_sender", run["rate"], "messages/s")
    figure(f"notify.{kind}.bare_h2_client", bare["rate"], "requests/s")
    figure(f"notify.{kind}.to_bare", ratio, "ratio")
    figure(f"notify.{kind}.received_twice", got["duplicates"], "messages")
    figure(f"notify.{kind}.sender_cpu_per_message", run["cpu_us"]["sender"], "us")
    figure(f"notify.{kind}.standin_cpu_per_message", run["cpu_us"]["standin"], "us")


async def _bare_client(service: NativeStandIn, n: int) -> dict[str, Any]:
    """The bare HTTP/2 client's run: the requests the channel would send for n benchmark messages to new
    devices (message ids of their own, so none is a duplicate of the sender's), with a credential of
    their own, over a connection of their own; a warm-up first."""
    standin = service.standin
    probe = channel_to(standin)  # only builds the requests: its credential, the headers, the body
    targets = await service.targets("", n + WARM_UP)
    batch = [bench_push(10**9 + i, target) for i, target in enumerate(targets)]
    requests = await prepared(probe, batch)
    await probe.close()
    context = tls_context(str(standin.ca_file))
    await load(standin.url, context, lambda i: requests[n + i], WARM_UP, WINDOW)
    pids = {"client": [os.getpid()], "standin": [service.pid]}
    before = {k: cpu_s(v) for k, v in pids.items()}
    outcome = await load(standin.url, context, requests.__getitem__, n, WINDOW)
    used = {k: cpu_s(v) - before[k] for k, v in pids.items()}
    return {
        "rate": outcome.per_second,
        "accepted": outcome.statuses[200],
        "client_us": used["client"] / n * 1e6,
        "standin_us": used["standin"] / n * 1e6,
    }


if __name__ == "__main__":
    parts = sys.argv[1:] or ["decide", "deliver", "native", "latency"]
    if parts[0] == "latency":  # its own arguments follow
        latency.main(parts[1:])
        sys.exit()
    if "decide" in parts:
        bench_decide()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # as uvicorn runs notify
        if "deliver" in parts:
            runner.run(bench_deliver())
        if "native" in parts:
            runner.run(bench_native())
    if "latency" in parts:
        latency.main([])
