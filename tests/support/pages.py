"""What the tests of the services' pages share: the paths a browser may be sent to on each service, and
what a page's Content-Security-Policy lets scripts load from."""

from __future__ import annotations

from typing import Any

# What Litestar serves under /schema unless told otherwise: its documentation UIs (each loading its
# scripts from a CDN) and a page one of them opens. The services serve the JSON document alone.
SCHEMA_UIS = (
    "/schema",
    "/schema/",
    "/schema/redoc",
    "/schema/swagger",
    "/schema/elements",
    "/schema/rapidoc",
    "/schema/scalar",
    "/schema/oauth2-redirect.html",
)
OPENAPI_DOCUMENT = "/schema/openapi.json"


def browsable_paths(app: Any) -> list[str]:
    """Every path of a running app a browser can open as is (a GET route without a path parameter),
    and the documentation UIs it might serve."""
    app = getattr(app, "app", app)  # the Litestar app behind a service's front (ServiceSpec.front)
    paths = {route.path for route in app.routes if "GET" in route.methods and "{" not in route.path}
    return sorted(paths | set(SCHEMA_UIS) | {OPENAPI_DOCUMENT})


def script_sources(policy: str) -> list[str]:
    """Where a Content-Security-Policy lets a page's scripts come from: its script-src, or failing
    that its default-src (no directive at all: anywhere, `*`)."""
    directives: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        if words := directive.split():
            directives.setdefault(words[0].lower(), words[1:])
    return directives.get("script-src", directives.get("default-src", ["*"]))
