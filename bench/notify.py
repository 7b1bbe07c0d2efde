"""notify benchmarks: prints figures, asserts nothing.

    python bench/notify.py              # both parts
    python bench/notify.py decide       # (a) the pure offer decision
    python bench/notify.py deliver      # (b) Web Push delivery through the sender
    python bench/notify.py latency      # (c) ping to push, alone and under 10,000 pings/s (bench/latency.py)

(a) decides 100,000 offers for shoppers with 20 recent messages each (duplicates, caps and quiet
    hours all evaluated), in-process.
(b) starts an embedded PostgreSQL in a temporary folder, queues N due messages for N subscribed
    devices, and delivers them to the local push service with one sender, then with two senders on
    two pools (as two replicas would) sharing the work through FOR UPDATE SKIP LOCKED. Each push is
    VAPID-signed and aes128gcm-encrypted by the sender, and verified and decrypted by the push
    service, in this same process: the figures include the stand-in's cost, so they are a floor.
    Pushes received more than once per message are counted (it should say 0).
(c) the wait a shopper feels, from geo's answer to the ping that enters a store zone to the push
    service receiving the offer, with the services as separate processes: see bench/latency.py
    (`python bench/notify.py latency --help`).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import latency  # noqa: E402
from bench.report import figure  # noqa: E402
from services.notify.app import DELIVERY_KINDS  # noqa: E402
from services.notify.offers.decide import Offer, decide_offer  # noqa: E402
from services.notify.outbox import repository as repo  # noqa: E402
from services.notify.outbox.delivery import topic_of  # noqa: E402
from services.notify.outbox.kinds import DeliveryKinds  # noqa: E402
from services.notify.outbox.sender import Sender  # noqa: E402
from services.notify.policy.decide import Moment, Past, Policy, Recipient  # noqa: E402
from services.notify.policy.purposes import OFFERS  # noqa: E402
from services.notify.push import vapid  # noqa: E402
from services.notify.push.channels import Channels  # noqa: E402
from services.notify.push.push_urls import PushServices  # noqa: E402
from services.notify.push.webpush import WebPushChannel, push_session  # noqa: E402
from services.notify.replicas.products import ProductInfo  # noqa: E402
from services.notify.settings import NotifySettings  # noqa: E402
from shared.app import migrate  # noqa: E402
from shared.cli import service_spec  # noqa: E402
from shared.db import Database, connect, create_pool  # noqa: E402
from shared.embedded_pg import EmbeddedPostgres  # noqa: E402
from shared.settings import load_settings  # noqa: E402
from tests.support.push_service import LocalPushService  # noqa: E402

MESSAGES = {"fr": ("Bienvenue", "{product} à -20 %"), "en": ("Welcome", "{product} at 20% off")}


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


async def _queue(dsn: str, push: LocalPushService, public_key: str, n: int) -> None:
    conn = await connect(dsn)
    try:
        subs = [push.subscriber(public_key).subscription() for _ in range(n)]
        ids = [f"bench-{i}" for i in range(n)]
        await conn.execute(
            "INSERT INTO notify.devices (device_id, platform, locale, timezone)"
            " SELECT unnest($1::text[]), 'web', 'fr', 'UTC'",
            ids,
        )
        await conn.execute(  # the sender checks the consent again before each push
            "INSERT INTO notify.consents (device_id, offers, policy_version) SELECT unnest($1::text[]), true, 'bench'",
            ids,
        )
        await conn.execute(
            "INSERT INTO notify.push_targets (recipient_kind, recipient_id, provider, address, p256dh, auth)"
            " SELECT 'device', d, 'webpush', a, p, k FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
            " AS t (d, a, p, k)",
            ids,
            [s["endpoint"] for s in subs],
            [s["keys"]["p256dh"] for s in subs],
            [s["keys"]["auth"] for s in subs],
        )
        await conn.execute(
            """
            INSERT INTO notify.messages (device_id, event_id, purpose, status, store_id, sku, locale, title, body,
                                         topic, next_attempt_at, expires_at)
            SELECT d, ord, 'offers', 'pending', 'rivoli', 'YOG-1', 'fr', 'Bienvenue', 'Yaourt nature à -20 %',
                   t, now(), now() + interval '15 minutes'
            FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x (d, t, ord)
            """,
            ids,
            [topic_of("bench", d) for d in ids],
        )
    finally:
        await conn.close()


async def _deliver(dsn: str, push: LocalPushService, senders: int, n: int) -> float:
    settings = load_settings(
        {"DATABASE_URL": dsn, "ACCUEIL_ADMIN_TOKEN": "bench-admin-token-0123", "ACCUEIL_TOKEN_KEY": "k" * 40},
        push_hosts=(push.host,),
    )
    config = NotifySettings()
    endpoints = PushServices.from_hosts(settings.push_hosts)
    kinds = DeliveryKinds(DELIVERY_KINDS)
    replicas = []
    for _ in range(senders):
        db = Database(await create_pool(dsn, min_size=2, max_size=4, timeout_s=10), dsn)
        keys = await vapid.load(db, config)
        channels = Channels(
            [WebPushChannel(endpoints, keys, push_session(endpoints, config.push_timeout_s), config.push_timeout_s)]
        )
        replicas.append((db, channels, Sender(db, config, channels, settings.bus_poll_s, kinds)))
    await _queue(dsn, push, keys.public_key, n)
    push.pushes.clear()

    async def drain(sender: Sender) -> int:
        done = 0
        while claimed := await sender.run_once():
            done += claimed
        return done

    start = time.perf_counter()
    per_sender = await asyncio.gather(*(drain(sender) for _, _, sender in replicas))
    elapsed = time.perf_counter() - start
    async with replicas[0][0].transaction() as conn:
        sent = await conn.fetchval("SELECT count(*) FROM notify.messages WHERE status = 'sent'")
        await conn.execute("TRUNCATE notify.messages, notify.push_targets, notify.devices CASCADE")
        left = await repo.next_due(conn)
    twice = sum(c - 1 for c in Counter(p.payload["id"] for p in push.pushes).values() if c > 1)
    print(
        f"(b) deliver, {senders} sender(s): {n / elapsed:,.0f} pushes/s; {sent} sent of {n} "
        f"(per sender {per_sender}); received twice: {twice}; left due: {left}"
    )
    figure(f"notify.pushes_per_s.{senders}_senders", n / elapsed, "pushes/s")
    for db, channels, _ in replicas:
        await channels.close()
        await db.close()
    return n / elapsed


async def bench_deliver(n: int = 1000) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="accueil-bench-notify-"))
    server = EmbeddedPostgres(data_dir)
    try:
        dsn = server.start()
        conn = await connect(dsn)
        await migrate(conn, service_spec("notify"))
        await conn.close()
        async with LocalPushService() as push:
            one = await _deliver(dsn, push, 1, n)
            two = await _deliver(dsn, push, 2, n)
        print(f"    two senders / one sender: {two / one:.2f}x (one process: their database round trips overlap)")
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    parts = sys.argv[1:] or ["decide", "deliver", "latency"]
    if parts[0] == "latency":
        latency.main(parts[1:])
    else:
        if "decide" in parts:
            bench_decide()
        if "deliver" in parts:
            asyncio.run(bench_deliver())
        if "latency" in parts:
            latency.main([])
