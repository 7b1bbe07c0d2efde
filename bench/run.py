"""Every benchmark in one run, each in a process of its own, printed one after the other.

    python bench/run.py

Set ACCUEIL_BENCH_POSTGIS_URL to a PostgreSQL where `CREATE EXTENSION postgis` works to include the
PostGIS baseline. Figures depend on the machine and on what else runs: compare ratios from one run.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

RUNS = [
    ("zone resolution: H3 index vs STRtree (and PostGIS) per ping", ["geo.py", "resolve"]),
    ("ping ingest over HTTP, one geo process", ["geo.py", "ingest"]),
    ("ping ingest over HTTP, two geo processes", ["geo.py", "ingest2"]),
    ("peak memory of a geo process", ["memory.py"]),
    ("raw pings: disk per million in hourly partitions, dropping an hour vs deleting it", ["partitions.py"]),
    ("arrival ping to staff alert", ["pickup.py"]),
    ("arrival ping to staff alert, under ping load", ["pickup.py", "100", "--under-load"]),
    ("inventory: bulk import and reservations", ["inventory.py"]),
    ("notify: decisions and Web Push delivery", ["notify.py"]),
    ("notify: a campaign's results over 100,000 messages", ["campaign_results.py"]),
]


def main() -> int:
    print(f"accueil benchmarks on {os.cpu_count()} cores, Python {platform.python_version()}\n")
    failed = 0
    for title, (script, *args) in RUNS:
        print(f"== {title}: python bench/{script} {' '.join(args)}".rstrip(), flush=True)
        result = subprocess.run([sys.executable, str(HERE / script), *args], cwd=HERE.parent)
        failed += result.returncode != 0
        print(flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
