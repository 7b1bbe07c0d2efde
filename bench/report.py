"""The figures a benchmark measured, kept for bench/run.py: it sets ACCUEIL_BENCH_FIGURES to a file, and
each script's figures are written there as JSON when it ends. Run alone, a script only prints."""

from __future__ import annotations

import atexit
import os
from pathlib import Path

import msgspec

FIGURES_ENV = "ACCUEIL_BENCH_FIGURES"

_figures: dict[str, dict[str, float | str]] = {}


def figure(name: str, value: float, unit: str) -> float:
    """Records `name` (dotted, e.g. "ingest.batch.pings_per_s") and returns the value, to print it."""
    _figures[name] = {"value": round(float(value), 4), "unit": unit}
    return value


def figures() -> dict[str, dict[str, float | str]]:
    return dict(_figures)


def _write() -> None:
    if path := os.environ.get(FIGURES_ENV):
        Path(path).write_bytes(msgspec.json.encode(_figures))


atexit.register(_write)
