"""OPTIONS on a path answers every method of that path in `Allow`.

Litestar makes an OPTIONS handler for a path when it registers the path's first handler, and that
handler lists the methods of the route it was made for: a path whose GET and PUT are two handlers
answered `Allow: OPTIONS, PUT` (or GET). Here each path gets its own OPTIONS handler, registered
before the path's other handlers so Litestar makes none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from litestar.enums import HttpMethod, MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.response import Response
from litestar.status_codes import HTTP_204_NO_CONTENT
from litestar.types import ControllerRouterHandler, Scope


def _options_handler(path: str, methods: set[str]) -> HTTPRouteHandler:
    allow = ", ".join(sorted(methods | {"OPTIONS"}))

    def options(scope: Scope) -> Response[None]:
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow}, media_type=MediaType.TEXT)

    return HTTPRouteHandler(path=path, http_method=[HttpMethod.OPTIONS], include_in_schema=False, sync_to_thread=False)(
        options
    )


def with_options(handlers: Sequence[ControllerRouterHandler]) -> list[ControllerRouterHandler]:
    """`handlers` preceded by one OPTIONS handler per path of theirs (HTTP handlers; others as they are)."""
    methods: dict[str, set[str]] = defaultdict(set)
    for handler in handlers:
        if isinstance(handler, HTTPRouteHandler):
            for path in handler.paths:
                methods[path] |= set(handler.http_methods)
    return [*(_options_handler(path, found) for path, found in methods.items() if "OPTIONS" not in found), *handlers]
