"""shared/sse.py: Server-Sent Events read from a stream's lines, as a browser's EventSource reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator

from shared.sse import sse_messages


async def lines(*items: str) -> AsyncIterator[str]:
    for item in items:
        yield item


async def test_server_sent_events_are_read_with_their_type_id_and_data() -> None:
    stream = lines(
        ": accueil staff alerts", "retry: 2000", "",
        "id: 7", "", # an id alone dispatches nothing
        "id: 8", "event: alert", 'data: {"a":', "data: 1}", "",
        ": keep-alive", "",
        "data: plain", "",
    )  # fmt: skip
    got = [(m.event, m.id, m.data) async for m in sse_messages(stream)]
    assert got == [("alert", "8", '{"a":\n1}'), ("message", None, "plain")]
