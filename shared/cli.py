"""`accueil run | serve <service> | migrate | keys | demo`."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import fcntl
import hashlib
import importlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import httpx

from shared import keys, local_push, local_secrets
from shared.app import ServiceSpec, build_app, migrate
from shared.db import connect
from shared.embedded_pg import EmbeddedPostgres
from shared.errors import ConfigError
from shared.logging import configure_logging
from shared.settings import SERVICES, Settings, load_settings

log = logging.getLogger("accueil.cli")

READY_TIMEOUT_S = 90
STOP_TIMEOUT_S = 25


def service_spec(name: str) -> ServiceSpec:
    """The service named on the command line. The command is where the services are put together, so
    the one place `shared` reaches into them, and by name: a process loads only the service it runs."""
    spec: ServiceSpec = importlib.import_module(f"services.{name}.app").SPEC
    return spec


class Environment:
    """The variables a run needs, filling the gaps for a laptop: embedded database, local secrets."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.local_keys: dict[str, str] = {}  # each service's token key, when kept in the data dir
        self.data_dir = Path(self.env.get("ACCUEIL_DATA_DIR") or ".accueil").resolve()
        self.env["ACCUEIL_DATA_DIR"] = str(self.data_dir)
        self.embedded: EmbeddedPostgres | None = None
        self.owns_server = False

    def prepare(self, service: str = "notify") -> Settings:
        """The settings `service` runs with (for `run`, notify's: the launcher reads the ports, the
        database and the admin token from them). Without keys set, a laptop's own from the data dir:
        one token key per service, as a deployment has."""
        has_admin = self.env.get("ACCUEIL_ADMIN_TOKEN") or self.env.get("ACCUEIL_ADMIN_TOKEN_SHA256")
        if not has_admin or not self.env.get("ACCUEIL_TOKEN_KEY"):
            stored = local_secrets.load_or_create(self.data_dir)
            if not has_admin:
                self.env["ACCUEIL_ADMIN_TOKEN"] = stored["admin_token"]
            if not self.env.get("ACCUEIL_TOKEN_KEY"):
                self.local_keys = {name: stored[local_secrets.token_key_name(name)] for name in SERVICES}
                version = int(self.env.get("ACCUEIL_TOKEN_KEY_VERSION") or 1)
                self.env.setdefault(
                    "ACCUEIL_TOKEN_ISSUERS",
                    ",".join(keys.issuer_entry(name, key, version) for name, key in self.local_keys.items()),
                )
                self.env["ACCUEIL_TOKEN_KEY"] = self.local_keys[service]
        self.database_url()
        return load_settings(self.env)

    def of_service(self, service: str) -> dict[str, str]:
        """A service process's environment: its own token key only, and the admin token's digest
        rather than the token (least privilege, as the manifests give a container)."""
        env = dict(self.env)
        if self.local_keys:
            env["ACCUEIL_TOKEN_KEY"] = self.local_keys[service]
        if admin_token := env.pop("ACCUEIL_ADMIN_TOKEN", ""):
            env["ACCUEIL_ADMIN_TOKEN_SHA256"] = hashlib.sha256(admin_token.encode()).hexdigest()
        return env

    def database_url(self) -> str:
        """DATABASE_URL, or the embedded server's (started here). All that migrating needs: the
        migrations Job holds neither the admin token nor the token key."""
        if not self.env.get("DATABASE_URL"):
            self.embedded = EmbeddedPostgres(self.data_dir)
            self.env["DATABASE_URL"] = self.embedded.start()
        return self.env["DATABASE_URL"]

    def claim_data_dir(self) -> None:
        """`accueil run` owns the data dir: one launcher at a time, and the server it finds is its own
        to stop, even one left running by a launcher that was killed. The lock dies with the process."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.data_dir / "launcher.lock", "w")  # noqa: SIM115 (held for the process's life)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ConfigError(f"another `accueil run` is using {self.data_dir}") from exc
        self.owns_server = True

    def release(self) -> None:
        """Stop the embedded server if this process owns it or started it."""
        if self.embedded is not None and (self.owns_server or self.embedded.started_here):
            self.embedded.stop()


async def _migrate_all(database_url: str, names: tuple[str, ...]) -> list[str]:
    conn = await connect(database_url)
    try:
        applied: list[str] = []
        for name in names:
            applied += await migrate(conn, service_spec(name))
        return applied
    finally:
        await conn.close()


def cmd_migrate(env: Environment) -> int:
    database_url = env.database_url()
    try:
        applied = asyncio.run(_migrate_all(database_url, SERVICES))
    finally:
        env.release()
    print(f"applied {len(applied)} migration(s)" + "".join(f"\n  {name}" for name in applied))
    return 0


def cmd_serve(env: Environment, name: str) -> int:
    import uvicorn

    settings = env.prepare(name)
    configure_logging(name, settings.log_level, settings.log_format)
    app = build_app(service_spec(name), settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port_of(name),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=20,
        server_header=False,
        # Nothing here reads the client's address, and the Ingress is not at 127.0.0.1 (uvicorn's
        # default trusted proxy): the middleware would only cost time on every request.
        proxy_headers=False,
        limit_concurrency=settings.max_connections,
    )
    server = uvicorn.Server(config)
    # After a graceful stop uvicorn re-raises the signal that stopped it, which would end the process
    # by that signal (no exit status 0, no `finally`). Ours only asks the server to stop: uvicorn's own
    # handler takes over while it runs, and a SIGTERM that arrives before it listens is honoured too.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: setattr(server, "should_exit", True))
    try:
        server.run()
    finally:
        env.release()
    return 0


def _die_with_parent() -> None:
    """Linux: a child gets SIGTERM if the launcher is killed, so no service outlives it."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _wait_ready(settings: Settings, children: dict[str, subprocess.Popen[bytes]]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_S
    waiting = set(children)
    with httpx.Client(timeout=2) as client:
        while waiting and time.monotonic() < deadline:
            for name in list(waiting):
                if children[name].poll() is not None:
                    print(f"{name} exited during start-up (code {children[name].returncode})", file=sys.stderr)
                    return False
                try:
                    if client.get(f"http://127.0.0.1:{settings.port_of(name)}/readyz").status_code == 200:
                        waiting.discard(name)
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
    return not waiting


def _stop_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def cmd_run(env: Environment, push_standins: bool = False) -> int:
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    children: dict[str, subprocess.Popen[bytes]] = {}
    standins: dict[str, subprocess.Popen[bytes]] = {}
    code = 0
    try:
        env.claim_data_dir()
        if push_standins:  # they make their keys while PostgreSQL starts
            standins = local_push.start(env.data_dir, _die_with_parent)
        settings = env.prepare()
        asyncio.run(_migrate_all(settings.database_url, SERVICES))
        child_env = {"ACCUEIL_MIGRATE_ON_START": "false"}
        described = local_push.wait_ready(env.data_dir, standins) if standins else {}
        if described:
            hosts = env.env.get("ACCUEIL_PUSH_HOSTS", "")
            child_env.update(local_push.notify_env(env.data_dir, described, hosts))
        # The shopper page (/shop, served by notify) calls geo and inventory on their own ports.
        shop = ",".join(f"http://{host}:{settings.notify_port}" for host in ("127.0.0.1", "localhost"))
        child_env["ACCUEIL_CORS_ORIGINS"] = env.env.get("ACCUEIL_CORS_ORIGINS") or shop
        for name in SERVICES:
            children[name] = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "serve", name],
                env={**env.of_service(name), **child_env},
                preexec_fn=_die_with_parent,
            )
        if not _wait_ready(settings, children):
            print("accueil did not become ready; stopping", file=sys.stderr)
            return 1
        print("accueil is running")
        for name in SERVICES:
            print(f"  {name:<10} http://127.0.0.1:{settings.port_of(name)}")
        print(f"  staff page http://127.0.0.1:{settings.notify_port}/staff")
        print(f"  shop page  http://127.0.0.1:{settings.notify_port}/shop")
        for kind, standin in described.items():
            print(f"  {kind} stand-in {standin['url']} (notify pushes native apps' messages here)")
        print(f"  admin token: {settings.admin_token}")
        print("Ctrl-C or SIGTERM stops everything.", flush=True)
        while not stopping:
            for name, child in {**children, **standins}.items():
                if child.poll() is not None:
                    print(f"{name} stopped unexpectedly (code {child.returncode}); stopping", file=sys.stderr)
                    stopping, code = True, 1
            time.sleep(0.2)
        return code
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop_children(children)
        _stop_children(standins)  # after notify: nothing is left to push to them
        env.release()
        print("accueil stopped", flush=True)


def cmd_keys(action: str, service: str | None) -> int:
    """`generate`: the secrets of a new deployment, as environment lines (docs/kubernetes.md puts them in
    each Deployment's own Secret and the shared ConfigMap). `public <service>`: the issuer entry of the
    token key and version in this environment (a rotation publishes it before the service uses it)."""
    if action == "public":
        if not service or len(os.environ.get("ACCUEIL_TOKEN_KEY", "")) < 32:
            print("`accueil keys public <service>` reads ACCUEIL_TOKEN_KEY (32+ characters)", file=sys.stderr)
            return 2
        version = int(os.environ.get("ACCUEIL_TOKEN_KEY_VERSION") or 1)
        print(keys.issuer_entry(service, os.environ["ACCUEIL_TOKEN_KEY"], version))
        return 0
    admin_token = secrets.token_urlsafe(32)
    token_keys = {name: secrets.token_urlsafe(48) for name in SERVICES}
    print(f"ACCUEIL_ADMIN_TOKEN={admin_token}")
    print(f"ACCUEIL_ADMIN_TOKEN_SHA256={hashlib.sha256(admin_token.encode()).hexdigest()}")
    for name, key in token_keys.items():
        print(f"{name.upper()}_TOKEN_KEY={key}")
    print("ACCUEIL_TOKEN_ISSUERS=" + ",".join(keys.issuer_entry(name, key, 1) for name, key in token_keys.items()))
    return 0


def cmd_demo(speed: float, wait_ack_s: float, native: Literal["ios", "android"] | None) -> int:
    """A contactless pickup against a running `accueil run` (same variables, same data dir)."""
    from shared import demo

    return asyncio.run(demo.run(os.environ, speed, wait_ack_s, native))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="accueil", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="all three services, on an embedded PostgreSQL unless DATABASE_URL is set")
    run.add_argument(
        "--push-standins",
        action="store_true",
        help="also a local APNs and FCM (from a source checkout), notify pushing native apps' messages there",
    )
    serve = sub.add_parser("serve", help="one service (what a container runs)")
    serve.add_argument("service", choices=SERVICES)
    sub.add_parser("migrate", help="apply every service's migrations and exit")
    keys_cmd = sub.add_parser("keys", help="a new deployment's secrets, or a token key's public half")
    keys_cmd.add_argument("action", choices=("generate", "public"))
    keys_cmd.add_argument("service", nargs="?", choices=SERVICES)
    demo = sub.add_parser("demo", help="seed a demo store and play a shopper's drive-in against `accueil run`")
    demo.add_argument("--speed", type=float, default=1.0, help="drive this many times faster than real time")
    demo.add_argument(
        "--wait-ack",
        type=float,
        default=30.0,
        help="seconds left to press 'On my way out' on /staff before the demo does",
    )
    demo.add_argument(
        "--native",
        choices=("ios", "android"),
        help="the shopper is a native app, pushed to through APNs or FCM (`accueil run --push-standins`)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    env = Environment(os.environ)
    try:
        if args.command == "run":
            return cmd_run(env, args.push_standins)
        if args.command == "serve":
            return cmd_serve(env, args.service)
        if args.command == "keys":
            return cmd_keys(args.action, args.service)
        if args.command == "demo":
            return cmd_demo(args.speed, args.wait_ack, args.native)
        return cmd_migrate(env)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
