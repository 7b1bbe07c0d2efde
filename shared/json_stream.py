"""A JSON answer written as it is read, for documents too big to hold (a device's export)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar import MediaType
from litestar.response import Stream


async def json_stream(chunks: AsyncIterator[bytes]) -> Stream:
    """The answer for `chunks`, whose first one is made before the answer starts: whatever can refuse
    the request (an unknown device, a database or a peer failing) does so while an error answer can
    still be given. A failure after it cuts the connection, the document left incomplete."""
    first = await anext(chunks)
    return Stream(_resumed(first, chunks), media_type=MediaType.JSON)


async def _resumed(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk
