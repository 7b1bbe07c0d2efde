"""Native push throughput: prints figures, asserts nothing.

    python bench/native_push.py [messages] [in_flight]      # default 20000 500

One ApnsChannel, made from the settings as notify makes it, pushes `messages` alerts with `in_flight`
sends at a time to the APNs stand-in (tests/support/apns_service.py) running in another process, over
TLS and HTTP/2 with its JWT checks; then a bare h2 client (bench/h2_bare.py) sends the very same
requests (same JWT, headers and body) to the same stand-in. Three rounds each, alternating; the best
of each is kept. Both sides share this machine's cores, so compare the ratio and the CPU each side
spends per message: when the stand-in's is the larger, it sets the pace for both clients.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.h2_bare import connect  # noqa: E402
from bench.report import figure  # noqa: E402
from services.notify.push import apns_protocol  # noqa: E402
from services.notify.push.apns import ApnsChannel  # noqa: E402
from services.notify.push.channel import Push, Target  # noqa: E402
from services.notify.push.egress import tls_context  # noqa: E402
from services.notify.push.native import native_channels  # noqa: E402
from services.notify.push.push_urls import PushServices  # noqa: E402
from services.notify.settings import NotifySettings  # noqa: E402
from tests.support.apns_service import LocalApns, device_token, make_apns_key  # noqa: E402
from tests.support.push_pki import load_pki, make_pki  # noqa: E402

TOPIC = "com.example.shop"
ROUNDS = 3


async def serve_apns(directory: Path) -> None:
    """The stand-in's process: its PKI and key in `directory`, its port on stdout, then serve."""
    pki = make_pki(directory)
    key = make_apns_key()
    key.write(directory / "AuthKey.p8")
    (directory / "key.json").write_text(json.dumps({"key_id": key.key_id, "team_id": key.team_id}))
    async with LocalApns(pki, key, topic=TOPIC) as apns:
        print(apns.port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent goes


async def run(workers: int, n: int, send: Callable[[int], Awaitable[None]]) -> tuple[float, float]:
    """(messages per second, client CPU microseconds per message) of `n` sends, `workers` at a time."""
    next_index = iter(range(n))

    async def worker() -> None:
        for i in next_index:
            await send(i)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return n / (time.perf_counter() - wall), (time.process_time() - cpu) / n * 1e6


def cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def measure(directory: Path, port: int, stand_in: psutil.Process, n: int, in_flight: int) -> None:
    ids = json.loads((directory / "key.json").read_text())
    pki = load_pki(directory)
    config = NotifySettings(
        apns_key_file=str(directory / "AuthKey.p8"),
        apns_key_id=ids["key_id"],
        apns_team_id=ids["team_id"],
        apns_topic=TOPIC,
        apns_url=f"https://localhost:{port}",
        push_ca_file=str(pki.ca_file),
    )
    (channel,) = native_channels(config, PushServices.from_hosts([f"localhost:{port}"]))
    assert isinstance(channel, ApnsChannel)
    expires = datetime.now(UTC) + timedelta(hours=1)
    pushes = [
        Push(
            message_id=i,
            purpose="offers",
            target=Target("apns", device_token(), environment="production"),
            title="Au jardin",
            body="Le compost 40 L est en stock au rayon jardin, à -20 % jusqu'à ce soir",
            locale="fr",
            topic=f"offer-{i}",
            expires_at=expires,
            urgency="normal",
        )
        for i in range(n)
    ]
    failed = 0

    async def by_channel(i: int) -> None:
        nonlocal failed
        if (await channel.send(pushes[i])).label != "accepted":
            failed += 1

    # The bare client sends what the channel sends: its JWT (the stand-in refuses a second one
    # within 20 minutes, as Apple does), its headers and its payload.
    await channel.send(pushes[0])
    authorization = (b"authorization", b"bearer " + channel.provider_tokens.current("production").encode())
    requests = [
        (
            f"/3/device/{p.target.address}".encode(),
            [authorization, *apns_protocol.headers(p, TOPIC)],
            apns_protocol.payload(p),
        )
        for p in pushes
    ]
    bare = await connect("localhost", port, tls_context(str(pki.ca_file)))
    authority = f"localhost:{port}".encode()

    async def by_bare_client(i: int) -> None:
        nonlocal failed
        path, headers, body = requests[i]
        if await bare.post(authority, path, headers, body) != 200:
            failed += 1

    best: dict[str, tuple[float, float, float]] = {}
    for _ in range(ROUNDS):
        for name, send in (("channel", by_channel), ("bare", by_bare_client)):
            before = cpu_s(stand_in)
            rate, cpu = await run(in_flight, n, send)
            served = (cpu_s(stand_in) - before) / n * 1e6
            if rate > best.get(name, (0.0, 0.0, 0.0))[0]:
                best[name] = (rate, cpu, served)
    await channel.close()
    ours, floor = best["channel"], best["bare"]
    print(f"APNs, {n} alerts, {in_flight} in flight, to the stand-in in another process (best of {ROUNDS}):")
    print(f"  ApnsChannel        {figure('native_push.apns.channel.msgs_per_s', ours[0], 'msg/s'):9,.0f} msg/s", end="")
    print(f"   client CPU {figure('native_push.apns.channel.cpu_us_per_msg', ours[1], 'us'):5.0f} us/msg", end="")
    print(f"   stand-in CPU {ours[2]:5.0f} us/msg")
    print(f"  bare h2 client     {figure('native_push.apns.bare.msgs_per_s', floor[0], 'msg/s'):9,.0f} msg/s", end="")
    print(f"   client CPU {figure('native_push.apns.bare.cpu_us_per_msg', floor[1], 'us'):5.0f} us/msg", end="")
    print(f"   stand-in CPU {floor[2]:5.0f} us/msg")
    print(f"  ratio              {figure('native_push.apns.ratio_to_bare', ours[0] / floor[0], 'x'):9.2f}")
    print(f"  not accepted: {failed}; connections the channel made: {channel.connections_made}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "serve-apns":
        uvloop.run(serve_apns(Path(sys.argv[2])))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    in_flight = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    with tempfile.TemporaryDirectory(prefix="accueil-bench-") as directory:
        stand_in = subprocess.Popen(
            [sys.executable, __file__, "serve-apns", directory], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        try:
            assert stand_in.stdout is not None
            port = int(stand_in.stdout.readline())
            uvloop.run(measure(Path(directory), port, psutil.Process(stand_in.pid), n, in_flight))
        finally:
            assert stand_in.stdin is not None
            stand_in.stdin.close()
            stand_in.wait(10)


if __name__ == "__main__":
    main()
