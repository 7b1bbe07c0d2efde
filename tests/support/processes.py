"""Accueil commands in processes of their own, for the tests that need a real process: one to kill
with SIGKILL or stop with SIGTERM, `accueil run`'s launcher, the demo, the migrations Job.

Every one starts the same way, through `accueil`: `python -m shared.cli` (what the installed script
runs), with this environment minus whatever ACCUEIL_* or DATABASE_URL the caller has, so a child
gets exactly the settings a test gives it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from services.notify.settings import NotifySettings
from shared.settings import SERVICES
from tests.conftest import (
    ADMIN_TOKEN,
    KEEP_ALIVE,
    TLS,
    TOKEN_KEY,
    RunningServices,
    System,
    eventually,
    free_socket,
    settings_for,
)


def accueil(*args: str, env: Mapping[str, str], **popen: Any) -> subprocess.Popen[str]:
    """`accueil <args>` with the settings in `env`; `popen` chooses where its output goes."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ACCUEIL_") and k != "DATABASE_URL"}
    # Read as UTF-8, what Python writes on a UTF-8 or C locale, whatever this one is: the demo prints "—".
    return subprocess.Popen(
        [sys.executable, "-m", "shared.cli", *args], env={**inherited, **env}, encoding="utf-8", **popen
    )


OWN_KEYS = {name: f"{name}-own-token-key-0123456789-0123456789" for name in SERVICES}
"""Each service's own token key, where a test runs them as the manifests do."""


def separated_env(service: str, ports: Mapping[str, int]) -> dict[str, str]:
    """A service's environment as the manifests give a container (least privilege): its own token key,
    the issuers' public keys, the admin token's digest and not the token, and where the others are."""
    import hashlib

    from shared import keys

    return {
        "ACCUEIL_ADMIN_TOKEN": "",
        "ACCUEIL_ADMIN_TOKEN_SHA256": hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest(),
        "ACCUEIL_TOKEN_KEY": OWN_KEYS[service],
        "ACCUEIL_TOKEN_ISSUERS": ",".join(keys.issuer_entry(name, key, 1) for name, key in OWN_KEYS.items()),
        **{f"ACCUEIL_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()},
    }


def free_port() -> int:
    """A port nothing listens on now, for a process that binds it itself."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    return port


def free_ports() -> dict[str, int]:
    """One free port per service (the sockets are held until all are chosen, so all differ)."""
    socks = [free_socket() for _ in SERVICES]
    ports = {name: s.getsockname()[1] for name, s in zip(SERVICES, socks, strict=True)}
    for s in socks:
        s.close()
    return ports


class ServiceProcess:
    """`accueil serve <service>` configured as the manifests configure a container (migrations are
    the migrations Job's), its output kept in `workdir`/<service>.log for the assertions' messages."""

    def __init__(self, service: str, db_url: str, workdir: Path, port: int | None = None, **settings: str) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / f"{service}.log"
        env = {
            "DATABASE_URL": db_url,
            "ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN,
            "ACCUEIL_TOKEN_KEY": TOKEN_KEY,
            "ACCUEIL_MIGRATE_ON_START": "false",
            "ACCUEIL_DATA_DIR": str(workdir / "data"),
            **settings,  # settings are ACCUEIL_* variables, as a container's environment
            f"ACCUEIL_{service.upper()}_PORT": str(self.port),
        }
        with self.log.open("w") as out:
            self.proc = accueil("serve", service, env=env, stdout=out, stderr=subprocess.STDOUT)

    def logs(self) -> str:
        return self.log.read_text()

    async def ready(self, timeout: float = 60) -> None:
        """Until /readyz says 200; an early exit fails at once, with what the process logged."""

        async def answers() -> bool:
            assert self.proc.poll() is None, f"exited with {self.proc.returncode}:\n{self.logs()}"
            try:
                async with httpx.AsyncClient(verify=TLS) as client:
                    return (await client.get(f"{self.url}/readyz", timeout=2)).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(answers, timeout=timeout, interval=0.05)

    async def exit_code(self, timeout: float) -> int:
        """Wait for the process to exit (off the event loop: the test's own servers keep serving)."""
        return await asyncio.to_thread(self.proc.wait, timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.kill()  # never leave one behind, even when the test fails


class NotifyApart:
    """geo and inventory served in this process, notify in processes of its own that a test kills
    (SIGKILL) and starts again on the same port, and at last, if the test wants, in this process."""

    def __init__(
        self, db_url: str, workdir: Path, push_hosts: tuple[str, ...], config: NotifySettings, env: Mapping[str, str]
    ) -> None:
        """`config`: notify's settings when it runs in this process; `env`: the same as ACCUEIL_*
        variables for its processes (besides the ports, the push hosts and the bus poll, set here)."""
        self.db_url = db_url
        self.workdir = workdir
        sockets = {name: free_socket() for name in SERVICES}
        self.ports = {name: s.getsockname()[1] for name, s in sockets.items()}
        sockets["notify"].close()  # notify's processes bind it themselves
        self.settings = settings_for(db_url, self.ports, push_hosts=push_hosts)
        self.run = RunningServices(self.settings, SERVICES, sockets, {"notify": config})
        clients = {
            name: httpx.AsyncClient(base_url=self.settings.url_of(name), timeout=10, verify=TLS, limits=KEEP_ALIVE)
            for name in SERVICES
        }
        self.system = System(self.settings, clients, self.run)
        self.env = {
            "ACCUEIL_GEO_PORT": str(self.ports["geo"]),
            "ACCUEIL_INVENTORY_PORT": str(self.ports["inventory"]),
            "ACCUEIL_PUSH_HOSTS": ",".join(push_hosts),
            "ACCUEIL_BUS_POLL_S": str(self.settings.bus_poll_s),
            **env,
        }
        self.processes: list[ServiceProcess] = []

    async def start_process(self) -> ServiceProcess:
        """A notify process on notify's port, once it is ready (the last one must have been killed)."""
        workdir = self.workdir / f"notify-{len(self.processes)}"
        process = ServiceProcess("notify", self.db_url, workdir, port=self.ports["notify"], **self.env)
        self.processes.append(process)
        await process.ready()
        return process

    async def start_here(self) -> None:
        """notify in this process from now on, on the same port."""
        self.run.sockets["notify"] = free_socket(self.ports["notify"])
        await self.run.start("notify")

    async def close(self) -> None:
        for process in self.processes:
            process.kill()
        await asyncio.gather(*(self.run.stop(name) for name in list(self.run.servers)))
        for s in self.run.sockets.values():
            s.close()
        for client in (self.system.geo, self.system.inventory, self.system.notify):
            await client.aclose()


@asynccontextmanager
async def notify_apart(
    db_url: str, workdir: Path, push_hosts: tuple[str, ...], config: NotifySettings, env: Mapping[str, str]
) -> AsyncIterator[NotifyApart]:
    """NotifyApart with geo and inventory started; no notify yet (`start_process`)."""
    apart = NotifyApart(db_url, workdir, push_hosts, config, env)
    try:
        await apart.run.start("geo")
        await apart.run.start("inventory")
        yield apart
    finally:
        await apart.close()


def launch(data_dir: Path, ports: dict[str, int], *options: str, **settings: str) -> subprocess.Popen[str]:
    """`accueil run` as a newcomer runs it: no DATABASE_URL (an embedded PostgreSQL in `data_dir`);
    `options` on its command line, `settings` (ACCUEIL_* variables) in its environment."""
    env = {**launched_env(data_dir, ports), **settings}
    return accueil("run", *options, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def launched_env(data_dir: Path, ports: dict[str, int]) -> dict[str, str]:
    """What `launch` gives `accueil run`, and `accueil demo` needs to find it."""
    env = {"ACCUEIL_DATA_DIR": str(data_dir), "ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN}
    env.update({f"ACCUEIL_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    return env


def wait_until_running(proc: subprocess.Popen[str]) -> str:
    """Read the launcher's output until it says it is running; return what it printed."""
    lines = []
    deadline = time.monotonic() + 90
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"accueil run exited early: {''.join(lines)}")
        lines.append(line)
        if line.startswith("Ctrl-C"):
            return "".join(lines)
    raise AssertionError("accueil run was not ready within 90 s")
