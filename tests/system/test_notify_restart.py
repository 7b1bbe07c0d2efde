"""notify killed (SIGKILL) in the middle of a send, then restarted: the message is neither lost nor
shown twice."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import asyncpg
import httpx

from services.notify.settings import NotifySettings
from shared.settings import SERVICES
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, RunningServices, System, eventually, free_socket, settings_for
from tests.notify.shop import campaign, enter, settled, shop, shopper
from tests.push_service import HANG, LocalPushService

PUSH_TIMEOUT_S = 2  # the killed sender's lease runs out 2 * 2 + 2 s after its claim


def notify_process(db_url: str, ports: dict[str, int], push: LocalPushService, data_dir: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUEIL_")}
    env.update(
        {
            "DATABASE_URL": db_url,
            "ACCUEIL_DATA_DIR": data_dir,
            "ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN,
            "ACCUEIL_TOKEN_KEY": TOKEN_KEY,
            "ACCUEIL_PUSH_HOSTS": push.host,
            "ACCUEIL_PUSH_TIMEOUT_S": str(PUSH_TIMEOUT_S),
            "ACCUEIL_BUS_POLL_S": "0.5",
            "ACCUEIL_LOG_LEVEL": "WARNING",
            **{f"ACCUEIL_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "serve", "notify"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_ready(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            assert proc.poll() is None, "notify exited during start-up"
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("notify was not ready within 60 s")


def bound_to(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


async def test_a_notify_killed_mid_send_neither_loses_nor_duplicates_the_message(
    db_url: str, db: asyncpg.Connection, push: LocalPushService
) -> None:
    sockets = {name: free_socket() for name in SERVICES}
    ports = {name: s.getsockname()[1] for name, s in sockets.items()}
    sockets["notify"].close()  # the first notify is a process of its own, to be killed
    settings = settings_for(db_url, ports, push_hosts=(push.host,))
    run = RunningServices(settings, SERVICES, sockets, {"notify": NotifySettings(push_timeout_s=PUSH_TIMEOUT_S)})
    clients = {name: httpx.AsyncClient(base_url=settings.url_of(name), timeout=10) for name in SERVICES}
    system = System(settings, clients, run)
    proc = None
    try:
        await run.start("geo")
        await run.start("inventory")
        with tempfile.TemporaryDirectory(prefix="accueil-notify-") as data_dir:
            proc = notify_process(db_url, ports, push, data_dir)
            await wait_ready(settings.notify_url, proc)

            await shop(system, ("YOG-1", "Plain yoghurt", 5))
            await campaign(system, "welcome", "YOG-1")
            who = await shopper(system, push)
            push.answer(who.sub, HANG)  # the push service takes the message; its answer never comes
            await enter(system, who)
            await eventually(lambda: asyncio.sleep(0, result=push.received(who.sub)), interval=0.01)

            proc.send_signal(signal.SIGKILL)
            proc.wait()
        status = await db.fetchval("SELECT status FROM notify.messages WHERE device_id = $1", who.device_id)
        assert status == "sending"  # cut short between the claim and the answer

        sockets["notify"] = bound_to(ports["notify"])
        await run.start("notify")
        [message] = await settled(system, who)

        assert message["status"] == "sent"
        first, second = push.received(who.sub)
        assert first.payload == second.payload and first.topic == second.topic  # the same message, same Topic
        assert len(push.inbox(who.sub)) == 1  # the re-send replaced the copy the push service held
        outcomes = await db.fetch(
            "SELECT outcome FROM notify.delivery_attempts WHERE message_id = $1 ORDER BY attempt", message["id"]
        )
        assert [o["outcome"] for o in outcomes] == ["interrupted", "accepted"]
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        for name in list(run.servers):
            await run.stop(name)
        for s in run.sockets.values():
            s.close()
        for client in clients.values():
            await client.aclose()
