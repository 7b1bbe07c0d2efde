"""notify killed (SIGKILL) in the middle of a send, then restarted: the message is neither lost nor
shown twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from services.notify.settings import NotifySettings
from tests.conftest import eventually
from tests.support.builders import EVERY_PURPOSE, attempts, campaign, enter, settled, shop, shopper
from tests.support.processes import notify_apart
from tests.support.push_service import HANG, LocalPushService

PUSH_TIMEOUT_S = 2  # the killed sender's lease runs out 2 * 2 + 2 s after its claim


async def test_a_notify_killed_mid_send_neither_loses_nor_duplicates_the_message(
    db_url: str, db: asyncpg.Connection, push: LocalPushService, tmp_path: Path
) -> None:
    config = NotifySettings(push_timeout_s=PUSH_TIMEOUT_S)
    env = {"ACCUEIL_PUSH_TIMEOUT_S": str(PUSH_TIMEOUT_S)}
    async with notify_apart(db_url, tmp_path, (push.host,), config, env) as apart:
        system = apart.system
        notify = await apart.start_process()

        await shop(system, ("YOG-1", "Plain yoghurt", 5))
        await campaign(system, "welcome", "YOG-1")
        who = await shopper(system, push, **EVERY_PURPOSE)
        push.answer(who.sub, HANG)  # the push service takes the message; its answer never comes
        await enter(system, who)
        await eventually(lambda: asyncio.sleep(0, result=push.received(who.sub)), interval=0.01)

        notify.kill()

        status = await db.fetchval("SELECT status FROM notify.messages WHERE device_id = $1", who.device_id)
        assert status == "sending"  # cut short between the claim and the answer

        await apart.start_here()
        [message] = await settled(system, who)

        assert message["status"] == "sent"
        first, second = push.received(who.sub)
        assert first.payload == second.payload and first.topic == second.topic  # the same message, same Topic
        assert len(push.inbox(who.sub)) == 1  # the re-send replaced the copy the push service held
        assert [a["outcome"] for a in await attempts(db, message["id"])] == ["interrupted", "accepted"]
