"""Log lines: JSON for a collector, plain text for a person at a terminal."""

from __future__ import annotations

import io
import json
import logging

from shared.logging import JsonFormatter, TextFormatter, formatter_for


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def record(msg: str = "zone index loaded: %d zones", *args: object) -> logging.LogRecord:
    return logging.LogRecord("accueil.geo.zones", logging.INFO, __file__, 1, msg, args or (3,), None)


def test_a_terminal_gets_plain_lines_and_anything_else_json() -> None:
    assert isinstance(formatter_for("geo", "auto", Terminal()), TextFormatter)
    assert isinstance(formatter_for("geo", "auto", io.StringIO()), JsonFormatter)


def test_the_format_can_be_chosen_either_way() -> None:
    assert isinstance(formatter_for("geo", "json", Terminal()), JsonFormatter)
    assert isinstance(formatter_for("geo", "text", io.StringIO()), TextFormatter)


def test_a_plain_line_names_the_service_level_logger_and_message() -> None:
    line = TextFormatter("geo").format(record())
    assert line.split(" ", 1)[1].split() == [
        "geo",
        "INFO",
        "accueil.geo.zones:",
        "zone",
        "index",
        "loaded:",
        "3",
        "zones",
    ]


def test_a_json_line_is_one_object_with_the_same_facts() -> None:
    entry = json.loads(JsonFormatter("geo").format(record()))
    assert (entry["service"], entry["level"], entry["logger"], entry["msg"]) == (
        "geo",
        "info",
        "accueil.geo.zones",
        "zone index loaded: 3 zones",
    )
