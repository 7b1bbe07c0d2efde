"""Error log lines name the route, not the path: ids outlive an erasure in logs, route templates hold none."""

from __future__ import annotations

import logging

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from shared.errors import EXCEPTION_HANDLERS, database_unavailable_handler
from shared.wire import PathId

DEVICE = "dev_Yb4Fk0Fh8GQgYOJc0iDY7w"


@get("/v1/devices/{device_id:str}/consents", sync_to_thread=False)
def failing(device_id: PathId) -> None:
    raise RuntimeError("a bug")


@get("/v1/devices/{device_id:str}/data", sync_to_thread=False)
def database_gone(device_id: PathId) -> None:
    raise ConnectionRefusedError("the database went away")


def app() -> Litestar:
    return Litestar(
        route_handlers=[failing, database_gone],
        exception_handlers={**EXCEPTION_HANDLERS, OSError: database_unavailable_handler},
        logging_config=None,  # as the services run (shared.app): the log lines go where logging sends them
    )


def test_a_500s_log_line_names_the_route_template_and_no_device_id(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="accueil.errors"), TestClient(app()) as client:
        assert client.get(f"/v1/devices/{DEVICE}/consents").status_code == 500
    (line,) = [r.getMessage() for r in caplog.records if r.name == "accueil.errors"]
    assert line == "unhandled error on GET /v1/devices/{device_id}/consents"
    assert DEVICE not in caplog.text


def test_a_503s_log_line_names_the_route_template_and_no_device_id(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="accueil.errors"), TestClient(app()) as client:
        assert client.get(f"/v1/devices/{DEVICE}/data").status_code == 503
    (line,) = [r.getMessage() for r in caplog.records if r.name == "accueil.errors"]
    assert line.startswith("database unavailable on GET /v1/devices/{device_id}/data: ")
    assert DEVICE not in caplog.text
