"""The APNs and FCM stand-ins in a process of their own: for the benchmarks (the sender measured and
the stand-in then do not share a core's event loop) and for `accueil run --push-standins`.

    python -m tests.support.push_standins serve apns|fcm --dir DIR [--port N]

The keys and the test PKI are read from DIR, or made there the first time: `push-ca.pem` (the CA to
trust), `apns-key.json` + `AuthKey_<key id>.p8`, `service-account.json` (its token_uri is rewritten to
this process's). When it serves, the process writes `standin.json` in DIR (its URL, CA and keys:
what notify is configured with, shared/local_push.py) and prints its URL as one line on stdout.
Beside the service, `GET /_stats` answers `{"received", "delivered", "duplicates"}` (a duplicate: a
second delivered push of one message to one device: the same apns-collapse-id, or the same
data.message_id), and `GET /_received?token=T` what was delivered to device token T, as the phone
shows it: `{"token", "received": [{"title", "body", "message_id", "purpose", "received_at"}]}`
(`received_at` in seconds since the epoch). SIGTERM or SIGINT stop it, and remove `standin.json`.

From Python: `async with StandInProcess("apns", directory) as standin:` gives `url`, `host`,
`ca_file`, `apns_key` or `service_account` and `service_account_file`, and `await standin.stats()`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from asyncio.subprocess import PIPE
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

import httpx

from shared.local_push import DESCRIPTION
from tests.support.apns_service import ApnsKey, ApnsPush, LocalApns, make_apns_key
from tests.support.fcm_service import FcmSend, LocalFcm, ServiceAccount, make_service_account
from tests.support.h2_server import Request, Response
from tests.support.push_pki import TestPki, load_pki, make_pki
from tests.support.standin import StandIn

KINDS = ("apns", "fcm")
STATS_PATH = "/_stats"
RECEIVED_PATH = "/_received"
APNS_KEY_FILE = "apns-key.json"
SERVICE_ACCOUNT_FILE = "service-account.json"
ROOT = Path(__file__).resolve().parents[2]


def pki_in(directory: Path) -> TestPki:
    try:
        return load_pki(directory)
    except FileNotFoundError:
        return make_pki(directory)


def apns_key_in(directory: Path) -> ApnsKey:
    meta = directory / APNS_KEY_FILE
    if meta.exists():
        fields = json.loads(meta.read_text())
        return ApnsKey(fields["key_id"], fields["team_id"], (directory / fields["key_file"]).read_bytes())
    key = make_apns_key()
    key_file = key.write(directory / f"AuthKey_{key.key_id}.p8")
    meta.write_text(json.dumps({"key_id": key.key_id, "team_id": key.team_id, "key_file": key_file.name}))
    return key


def service_account_in(directory: Path) -> ServiceAccount:
    path = directory / SERVICE_ACCOUNT_FILE
    if not path.exists():
        return make_service_account()
    info = json.loads(path.read_text())
    return ServiceAccount(
        info["project_id"], info["client_email"], info["private_key"], info["private_key_id"], info["client_id"]
    )


def shown(push: ApnsPush | FcmSend) -> dict[str, Any]:
    """A delivered push as the phone shows it: its title and body, what notify put in it for the app
    (the message id, the purpose), and when it arrived, in seconds since the epoch (a time another
    process can compare with its own)."""
    if isinstance(push, ApnsPush):
        alert = push.payload["aps"].get("alert")
        notification = alert if isinstance(alert, dict) else {"body": alert}
        extra = push.payload.get("accueil")
    else:
        notification = push.message.get("notification") or {}
        extra = push.message.get("data")
    extra = extra if isinstance(extra, dict) else {}
    return {
        "title": notification.get("title"),
        "body": notification.get("body"),
        "message_id": None if extra.get("message_id") is None else str(extra["message_id"]),
        "purpose": extra.get("purpose"),
        "received_at": time.time() - (time.monotonic() - push.received_at),
    }


def with_reads(standin: StandIn[Any]) -> None:
    """`GET /_stats` and `GET /_received?token=` beside the service's own paths."""
    serve = standin.server.handler

    def handler(request: Request) -> Any:
        path, _, query = request.path.partition("?")
        if request.method != "GET" or path not in (STATS_PATH, RECEIVED_PATH):
            return serve(request)
        if path == STATS_PATH:
            answer: dict[str, Any] = standin.log.stats()
        else:
            token = parse_qs(query).get("token", [""])[0]
            if not token:
                return Response(400, {"content-type": "application/json"}, b'{"error": "token is required"}')
            answer = {"token": token, "received": [shown(p) for p in standin.delivered if p.token == token]}
        return Response(200, {"content-type": "application/json"}, json.dumps(answer).encode())

    standin.server.handler = handler


def describe(standin: StandIn[Any], directory: Path) -> dict[str, str]:
    """What `accueil run --push-standins` points notify at, and where `accueil demo --native` reads a
    phone's pushes: the URL, the CA to trust, and the APNs key or the service-account file."""
    if isinstance(standin, LocalApns):
        meta = json.loads((directory / APNS_KEY_FILE).read_text())
        return {
            "kind": "apns",
            "url": standin.url,
            "ca_file": str(standin.pki.ca_file),
            "key_file": str(directory / meta["key_file"]),
            "key_id": meta["key_id"],
            "team_id": meta["team_id"],
            "topic": standin.topic,
        }
    assert isinstance(standin, LocalFcm)
    return {
        "kind": "fcm",
        "url": standin.url,
        "ca_file": str(standin.pki.ca_file),
        "service_account_file": str(directory / SERVICE_ACCOUNT_FILE),
    }


async def serve(kind: str, directory: Path, port: int) -> None:
    pki = pki_in(directory)
    standin: StandIn[Any]
    if kind == "apns":
        standin = LocalApns(pki, apns_key_in(directory), port=port)
    else:
        account = service_account_in(directory)
        standin = LocalFcm(pki, account, port=port)
    with_reads(standin)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    described = directory / DESCRIPTION
    async with standin:
        if isinstance(standin, LocalFcm):
            standin.account.write(directory / SERVICE_ACCOUNT_FILE, standin.token_uri)
        # Written whole, then renamed: a reader never sees half of it.
        partial = described.with_suffix(".partial")
        partial.write_text(json.dumps(describe(standin, directory), indent=2))
        partial.replace(described)
        print(standin.url, flush=True)
        try:
            await stop.wait()
        finally:
            described.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.push_standins")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_command = commands.add_parser("serve", help="run one stand-in until SIGTERM")
    serve_command.add_argument("kind", choices=KINDS)
    serve_command.add_argument("--dir", type=Path, required=True, help="where the keys and the PKI are")
    serve_command.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args(argv)
    directory = args.dir.resolve()  # the paths it writes in standin.json hold from any directory
    directory.mkdir(parents=True, exist_ok=True)
    try:
        import uvloop
    except ImportError:  # the stand-in works on asyncio's own loop, only slower
        asyncio.run(serve(args.kind, directory, args.port))
    else:
        uvloop.run(serve(args.kind, directory, args.port))


class StandInProcess:
    """One stand-in in a child process: `async with StandInProcess("fcm", directory) as fcm:`."""

    def __init__(self, kind: str, directory: Path, port: int = 0, ready_timeout: float = 30.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        self.kind = kind
        self.directory = directory
        self.port = port
        self.ready_timeout = ready_timeout
        self.url = ""
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def host(self) -> str:
        """For ACCUEIL_PUSH_HOSTS."""
        return self.url.removeprefix("https://")

    @property
    def ca_file(self) -> Path:
        return load_pki(self.directory).ca_file

    @property
    def apns_key(self) -> ApnsKey:
        return apns_key_in(self.directory)

    @property
    def service_account_file(self) -> Path:
        return self.directory / SERVICE_ACCOUNT_FILE

    @property
    def service_account(self) -> ServiceAccount:
        return service_account_in(self.directory)

    async def __aenter__(self) -> StandInProcess:
        command = ["-m", "tests.support.push_standins", "serve", self.kind, "--dir", str(self.directory)]
        command += ["--port", str(self.port)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.proc = await asyncio.create_subprocess_exec(sys.executable, *command, cwd=ROOT, env=env, stdout=PIPE)
        assert self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), self.ready_timeout)
        except TimeoutError:
            await self.stop()
            raise
        if not line.startswith(b"https://"):
            await self.stop()
            raise RuntimeError(f"the {self.kind} stand-in did not start (exit code {self.proc.returncode})")
        self.url = line.decode().strip()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    async def stats(self) -> dict[str, int]:
        """The child's `GET /_stats`."""
        async with httpx.AsyncClient(
            http2=True, verify=load_pki(self.directory).client_context(), trust_env=False
        ) as c:
            r = await c.get(self.url + STATS_PATH)
            r.raise_for_status()
            return dict(r.json())


if __name__ == "__main__":
    main()
