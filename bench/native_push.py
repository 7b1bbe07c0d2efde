"""Native push throughput: prints figures, asserts nothing.

    python bench/native_push.py [apns|fcm ...] [--messages N] [--in-flight N]     # default: both, 20000, 500

One channel (ApnsChannel, FcmChannel), made from the settings as notify makes it, sends `messages`
notifications with `in_flight` sends at a time to its stand-in (tests/support/push_standins.py) in a
process of its own, over TLS and HTTP/2 with the stand-in's checks (JWT signatures, access tokens);
then the bare HTTP/2 load client (bench/h2_client.py) sends the very same requests (same credential,
headers and body) to the same stand-in. Three rounds each, alternating; the best of each is kept. The two
processes share this machine's cores: the CPU each side spends per message is printed beside the
rate, and when the stand-in's is the larger, it sets the pace for both clients.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.h2_client import load  # noqa: E402
from bench.report import figure  # noqa: E402
from services.notify.push import apns_protocol, fcm_protocol  # noqa: E402
from services.notify.push.apns import ApnsChannel  # noqa: E402
from services.notify.push.channel import Channel, Push, Target  # noqa: E402
from services.notify.push.egress import tls_context  # noqa: E402
from services.notify.push.fcm import FcmChannel  # noqa: E402
from services.notify.push.native import native_channels  # noqa: E402
from services.notify.push.push_urls import PushServices  # noqa: E402
from services.notify.settings import NotifySettings  # noqa: E402
from tests.support.apns_service import device_token  # noqa: E402
from tests.support.fcm_service import registration_token  # noqa: E402
from tests.support.push_standins import StandInProcess  # noqa: E402

TOPIC = "com.example.shop"  # the APNs stand-in's bundle id
ROUNDS = 3
Prepared = tuple[str, list[tuple[bytes, bytes]], bytes]


def pushes(kind: str, n: int) -> list[Push]:
    expires = datetime.now(UTC) + timedelta(hours=1)
    return [
        Push(
            message_id=i,
            purpose="offers",
            target=Target("apns", device_token(), environment="production")
            if kind == "apns"
            else Target("fcm", registration_token()),
            title="Au jardin",
            body="Le compost 40 L est en stock au rayon jardin, à -20 % jusqu'à ce soir",
            locale="fr",
            topic=f"offer-{i}",
            expires_at=expires,
            urgency="normal",
        )
        for i in range(n)
    ]


def settings_for(standin: StandInProcess) -> NotifySettings:
    """notify's configuration for the one channel of this stand-in's kind, as an operator would set it."""
    if standin.kind == "apns":
        key = standin.apns_key
        return NotifySettings(
            apns_key_file=str(standin.directory / f"AuthKey_{key.key_id}.p8"),
            apns_key_id=key.key_id,
            apns_team_id=key.team_id,
            apns_topic=TOPIC,
            apns_url=standin.url,
            push_ca_file=str(standin.ca_file),
        )
    return NotifySettings(
        fcm_service_account_file=str(standin.service_account_file),
        fcm_url=standin.url,
        push_ca_file=str(standin.ca_file),
    )


def channel_to(standin: StandInProcess) -> Channel:
    """The channel notify makes from that configuration, allowed to push to the stand-in. Called inside
    the event loop."""
    (channel,) = native_channels(settings_for(standin), PushServices.from_hosts([standin.host]))
    return channel


async def prepared(channel: Channel, batch: list[Push]) -> list[Prepared]:
    """What the channel sends for each push, for the bare client to send as is: its credential (the
    APNs stand-in refuses a second JWT within 20 minutes, as Apple does), headers and body."""
    if isinstance(channel, ApnsChannel):
        jwt = channel.provider_tokens.current("production")
        authorization = (b"authorization", b"bearer " + jwt.encode())
        return [
            (
                f"/3/device/{p.target.address}",
                [authorization, *apns_protocol.headers(p, TOPIC)],
                apns_protocol.payload(p),
            )
            for p in batch
        ]
    assert isinstance(channel, FcmChannel)
    access = await channel.access_tokens.current()
    headers = [(b"authorization", b"Bearer " + access.encode()), (b"content-type", b"application/json")]
    now = datetime.now(UTC)
    path = channel.send_path
    return [(path, headers, fcm_protocol.message(p, now)) for p in batch]


async def run(workers: int, n: int, send: Callable[[int], Awaitable[bool]]) -> tuple[float, float, int]:
    """(messages per second, this process's CPU microseconds per message, failures) of `n` sends."""
    next_index = iter(range(n))
    failed = 0

    async def worker() -> None:
        nonlocal failed
        for i in next_index:
            failed += not await send(i)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return n / (time.perf_counter() - wall), (time.process_time() - cpu) / n * 1e6, failed


def cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def bench(kind: str, directory: Path, n: int, in_flight: int) -> None:
    async with StandInProcess(kind, directory) as standin:
        channel = channel_to(standin)
        batch = pushes(kind, n)
        assert (await channel.send(batch[0])).label == "accepted"  # connected, credential in hand
        requests = await prepared(channel, batch)
        context = tls_context(str(standin.ca_file))

        async def by_channel(i: int) -> bool:
            return (await channel.send(batch[i])).label == "accepted"

        async def by_bare_client() -> tuple[float, float, int]:
            cpu = time.process_time()
            outcome = await load(standin.url, context, requests.__getitem__, n, in_flight)
            return outcome.per_second, (time.process_time() - cpu) / n * 1e6, n - outcome.statuses[200]

        served_by = psutil.Process(standin.pid)
        best: dict[str, tuple[float, float, float, int]] = {}
        for _ in range(ROUNDS):
            for name in ("channel", "bare"):
                before = cpu_s(served_by)
                rate, cpu, failed = await (run(in_flight, n, by_channel) if name == "channel" else by_bare_client())
                served = (cpu_s(served_by) - before) / n * 1e6
                if rate > best.get(name, (0.0, 0.0, 0.0, 0))[0]:
                    best[name] = (rate, cpu, served, failed)
        await channel.close()
    label = {"apns": "ApnsChannel", "fcm": "FcmChannel"}[kind]
    print(f"{kind.upper()}: {n} notifications, {in_flight} in flight, to the stand-in in another process:")
    for name, shown in (("channel", label), ("bare", "bare h2 client")):
        rate, cpu, served, failed = best[name]
        rate = figure(f"native_push.{kind}.{name}.msgs_per_s", rate, "msg/s")
        cpu = figure(f"native_push.{kind}.{name}.cpu_us_per_msg", cpu, "us")
        print(
            f"  {shown:<15} {rate:8,.0f} msg/s   its CPU {cpu:4.0f} us/msg   the stand-in's {served:4.0f} us/msg",
            end="",
        )
        print(f"   not accepted: {failed}" if failed else "")
    ratio = figure(f"native_push.{kind}.ratio_to_bare", best["channel"][0] / best["bare"][0], "x")
    print(f"  ratio {ratio:.2f}; connections the channel made: {channel.connections_made}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kinds", nargs="*", choices=["apns", "fcm", []], default=[])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--in-flight", type=int, default=500)
    args = parser.parse_args()
    for kind in args.kinds or ["apns", "fcm"]:
        with tempfile.TemporaryDirectory(prefix=f"accueil-bench-{kind}-") as directory:
            uvloop.run(bench(kind, Path(directory), args.messages, args.in_flight))


if __name__ == "__main__":
    main()
