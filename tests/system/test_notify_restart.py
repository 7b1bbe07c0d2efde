"""notify killed (SIGKILL) in the middle of a send, then restarted: the message is neither lost nor
shown twice."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import asyncpg
import httpx

from services.notify.settings import NotifySettings
from shared.settings import SERVICES
from tests.conftest import RunningServices, System, eventually, free_socket, settings_for
from tests.support.builders import EVERY_PURPOSE, campaign, enter, settled, shop, shopper
from tests.support.processes import ServiceProcess
from tests.support.push_service import HANG, LocalPushService

PUSH_TIMEOUT_S = 2  # the killed sender's lease runs out 2 * 2 + 2 s after its claim


async def test_a_notify_killed_mid_send_neither_loses_nor_duplicates_the_message(
    db_url: str, db: asyncpg.Connection, push: LocalPushService, tmp_path: Path
) -> None:
    sockets = {name: free_socket() for name in SERVICES}
    ports = {name: s.getsockname()[1] for name, s in sockets.items()}
    sockets["notify"].close()  # the first notify is a process of its own, to be killed
    settings = settings_for(db_url, ports, push_hosts=(push.host,))
    run = RunningServices(settings, SERVICES, sockets, {"notify": NotifySettings(push_timeout_s=PUSH_TIMEOUT_S)})
    clients = {name: httpx.AsyncClient(base_url=settings.url_of(name), timeout=10) for name in SERVICES}
    system = System(settings, clients, run)
    notify = None
    try:
        await run.start("geo")
        await run.start("inventory")
        notify = ServiceProcess(
            "notify",
            db_url,
            tmp_path,
            port=ports["notify"],
            ACCUEIL_GEO_PORT=str(ports["geo"]),
            ACCUEIL_INVENTORY_PORT=str(ports["inventory"]),
            ACCUEIL_PUSH_HOSTS=push.host,
            ACCUEIL_PUSH_TIMEOUT_S=str(PUSH_TIMEOUT_S),
            ACCUEIL_BUS_POLL_S="0.5",
        )
        await notify.ready()

        await shop(system, ("YOG-1", "Plain yoghurt", 5))
        await campaign(system, "welcome", "YOG-1")
        who = await shopper(system, push, **EVERY_PURPOSE)
        push.answer(who.sub, HANG)  # the push service takes the message; its answer never comes
        await enter(system, who)
        await eventually(lambda: asyncio.sleep(0, result=push.received(who.sub)), interval=0.01)

        notify.proc.send_signal(signal.SIGKILL)
        notify.proc.wait()

        status = await db.fetchval("SELECT status FROM notify.messages WHERE device_id = $1", who.device_id)
        assert status == "sending"  # cut short between the claim and the answer

        sockets["notify"] = free_socket(ports["notify"])
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
        if notify is not None:
            notify.kill()
        for name in list(run.servers):
            await run.stop(name)
        for s in run.sockets.values():
            s.close()
        for client in clients.values():
            await client.aclose()
