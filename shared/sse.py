"""Server-Sent Events read from a response's lines: what the staff page's EventSource does with the
alert stream, for the clients that are not a browser (`accueil demo`, the benchmarks, the tests)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any


@dataclass
class Sse:
    event: str = "message"
    id: str | None = None
    data: str = ""

    def json(self) -> Any:
        return json.loads(self.data)


async def sse_messages(lines: AsyncIterator[str]) -> AsyncIterator[Sse]:
    """Server-Sent Events from a response's lines (comments and id-only messages are skipped)."""
    message, data = Sse(), list[str]()
    async for line in lines:
        if line == "":
            if data:
                message.data = "\n".join(data)
                yield message
            message, data = Sse(), []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name == "event":
                message.event = value
            elif name == "id":
                message.id = value
