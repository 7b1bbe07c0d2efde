"""The APNs and FCM stand-ins under a bare HTTP/2 client: the ceiling a native push sender is read
against. Prints figures, asserts nothing.

    python bench/push_standins.py [apns|fcm ...] [--total N] [--in-flight N] [--huffman]

Each stand-in runs in a process of its own (tests/support/push_standins.py), the bare client
(bench/h2_client.py) in this one, over one TLS connection with many streams in flight. Every request
is one the stand-in accepts: a valid provider JWT or access token, a distinct device and message. The
CPU each side spent per request is printed beside the rate: on 2 cores the two processes each have
one, so the rate is bound by the busier of the two. The client encodes headers without Huffman
coding or indexing (the cheapest for both sides); `--huffman` makes it encode them as h2 does by
default, as most clients do, which costs the stand-in the decoding.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import jwt
import psutil
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.h2_client import RequestMaker, load  # noqa: E402
from bench.report import figure  # noqa: E402
from tests.support.apns_service import device_token  # noqa: E402
from tests.support.fcm_service import FCM_SCOPE, registration_token  # noqa: E402
from tests.support.push_pki import load_pki  # noqa: E402
from tests.support.push_standins import StandInProcess  # noqa: E402

WARM_UP = 2_000


async def apns_requests(standin: StandInProcess) -> RequestMaker:
    key = standin.apns_key
    provider = jwt.encode(
        {"iss": key.team_id, "iat": int(time.time())}, key.private_pem, algorithm="ES256", headers={"kid": key.key_id}
    )
    fixed = [
        (b"authorization", f"bearer {provider}".encode()),
        (b"apns-topic", b"com.example.shop"),
        (b"apns-push-type", b"alert"),
        (b"apns-priority", b"10"),
        (b"apns-expiration", str(int(time.time()) + 3600).encode()),
    ]
    tokens = [device_token() for _ in range(1000)]
    run = uuid.uuid4().hex[:8]

    def make(n: int) -> tuple[str, list[tuple[bytes, bytes]], bytes]:
        body = {"aps": {"alert": {"title": "Back in stock", "body": "The blue jacket"}}, "accueil": {"message_id": n}}
        headers = [*fixed, (b"apns-collapse-id", f"{run}-{n}".encode())]
        return f"/3/device/{tokens[n % len(tokens)]}", headers, json.dumps(body).encode()

    return make


async def fcm_requests(standin: StandInProcess) -> RequestMaker:
    account = standin.service_account
    now = int(time.time())
    claims = {"iss": account.client_email, "scope": FCM_SCOPE, "aud": standin.url + "/token", "iat": now}
    assertion = jwt.encode({**claims, "exp": now + 3600}, account.private_key_pem, algorithm="RS256")
    verify = load_pki(standin.directory).client_context()
    async with httpx.AsyncClient(http2=True, verify=verify, trust_env=False) as client:
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
        r = await client.post(standin.url + "/token", data=form)
        r.raise_for_status()
    fixed = [(b"authorization", f"Bearer {r.json()['access_token']}".encode()), (b"content-type", b"application/json")]
    path = f"/v1/projects/{account.project_id}/messages:send"
    tokens = [registration_token() for _ in range(1000)]
    run = uuid.uuid4().hex[:8]

    def make(n: int) -> tuple[str, list[tuple[bytes, bytes]], bytes]:
        message = {
            "token": tokens[n % len(tokens)],
            "notification": {"title": "Back in stock", "body": "The blue jacket"},
            "data": {"message_id": f"{run}-{n}", "purpose": "back_in_stock"},
            "android": {"priority": "high", "ttl": "3600s"},
        }
        return path, fixed, json.dumps({"message": message}).encode()

    return make


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(kind: str, total: int, in_flight: int, huffman: bool) -> None:
    with tempfile.TemporaryDirectory(prefix=f"accueil-{kind}-") as folder:
        async with StandInProcess(kind, Path(folder)) as standin:
            make = await (apns_requests if kind == "apns" else fcm_requests)(standin)
            context = load_pki(standin.directory).client_context()
            await load(standin.url, context, make, WARM_UP, in_flight, huffman)
            server = psutil.Process(standin.pid)
            server_before, client_before = cpu_seconds(server), own_cpu_seconds()
            outcome = await load(standin.url, context, lambda n: make(WARM_UP + n), total, in_flight, huffman)
            server_cpu, client_cpu = cpu_seconds(server) - server_before, own_cpu_seconds() - client_before
            stats = await standin.stats()
    name = f"push_standins.{kind}" + (".huffman" if huffman else "")
    rate = figure(f"{name}.requests_per_s", outcome.per_second, "requests/s")
    server_us = figure(f"{name}.server_cpu_us", server_cpu / total * 1e6, "µs/request")
    client_us = figure(f"{name}.client_cpu_us", client_cpu / total * 1e6, "µs/request")
    hpack = "h2's HPACK (indexed, Huffman)" if huffman else "plain HPACK"
    print(
        f"{kind}, {hpack}: {total:,} requests, {in_flight} in flight on one connection: {rate:,.0f}/s; "
        f"CPU per request: stand-in {server_us:.0f} µs, bare client {client_us:.0f} µs; "
        f"answers {dict(outcome.statuses)}; stand-in's stats {stats}",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kinds", nargs="*", choices=["apns", "fcm", []], help="default: both")
    parser.add_argument("--total", type=int, default=50_000)
    parser.add_argument("--in-flight", type=int, default=500)
    parser.add_argument("--huffman", action="store_true", help="the client encodes headers as h2 does by default")
    args = parser.parse_args()
    for kind in args.kinds or ["apns", "fcm"]:
        await measure(kind, args.total, args.in_flight, args.huffman)


if __name__ == "__main__":
    uvloop.run(main())
