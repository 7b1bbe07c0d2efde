"""A map tile server on a loopback port: every tile the same small PNG, every request remembered (the
console's tests point ACCUEIL_CONSOLE_TILE_URL here: no test reaches the internet)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from aiohttp import web

from tests.support.loopback import serve_on_loopback


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour (8-bit RGB, no filter)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


TILE = png(256, 256, (224, 232, 214))


@dataclass
class TileServer:
    requested: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """As ACCUEIL_CONSOLE_TILE_URL takes it."""
        return f"{self.origin}/tiles/{{z}}/{{x}}/{{y}}.png"

    async def _tile(self, request: web.Request) -> web.Response:
        self.requested.append(request.path)
        return web.Response(body=TILE, content_type="image/png")

    async def __aenter__(self) -> TileServer:
        app = web.Application()
        app.router.add_get("/tiles/{z:\\d+}/{x:\\d+}/{y:\\d+}.png", self._tile)
        self._runner, self.port = await serve_on_loopback(app)
        return self

    async def stop(self) -> None:
        """Gone, its port refusing connections: tiles the browser cannot fetch."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
