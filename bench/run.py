"""Every benchmark in one run, each in a process of its own, printed one after the other, and the
figures written as JSON (default bench/results.json) with the machine they were measured on.

    python bench/run.py [--out results.json] [name ...]     # names: the scripts' arguments, e.g. memory

Set ACCUEIL_BENCH_POSTGIS_URL to a PostgreSQL where `CREATE EXTENSION postgis` works to include the
PostGIS baseline. Figures depend on the machine and on what else runs: compare ratios from one run (each
script measures its own floors, h3's cell lookup and a bare endpoint, beside what it measures).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import msgspec

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.report import FIGURES_ENV  # noqa: E402

RUNS = [
    ("zone resolution: H3 index vs STRtree (and PostGIS) per ping", ["geo.py", "resolve"]),
    ("ping ingest over HTTP, one geo process", ["geo.py", "ingest"]),
    ("ping ingest over HTTP, two geo processes", ["geo.py", "ingest2"]),
    ("ping ingest over HTTP from a cold fleet of 20,000 phones, one geo process", ["geo.py", "cold"]),
    ("peak memory of a geo process", ["memory.py"]),
    ("raw pings: disk per million in hourly partitions, dropping an hour vs deleting it", ["partitions.py"]),
    ("arrival ping to staff alert", ["pickup.py"]),
    ("arrival ping to staff alert, under ping load", ["pickup.py", "100", "--under-load"]),
    ("inventory: bulk import and reservations", ["inventory.py"]),
    ("notify: decisions, Web Push delivery, ping to push alone and under 10,000 pings/s", ["notify.py"]),
    ("notify: a campaign's results over 100,000 messages", ["campaign_results.py"]),
    ("notify: journeys, enrollments moved per second and a journey's results at 100,000", ["journeys.py"]),
]


def machine() -> dict[str, object]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def run_one(title: str, script: str, args: list[str]) -> dict[str, object]:
    command = f"python bench/{script} {' '.join(args)}".rstrip()
    print(f"== {title}: {command}", flush=True)
    with tempfile.TemporaryDirectory(prefix="accueil-bench-") as folder:
        figures_file = Path(folder) / "figures.json"
        env = {**os.environ, FIGURES_ENV: str(figures_file)}
        result = subprocess.run([sys.executable, str(HERE / script), *args], cwd=HERE.parent, env=env)
        figures = msgspec.json.decode(figures_file.read_bytes()) if figures_file.exists() else {}
    print(flush=True)
    return {"title": title, "command": command, "returncode": result.returncode, "figures": figures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("only", nargs="*", help="run only the benchmarks whose script or arguments name these")
    options = parser.parse_args()
    chosen = [(t, c) for t, c in RUNS if not options.only or set(options.only) & {c[0].removesuffix(".py"), *c}]
    about = machine()
    print(f"accueil benchmarks on {about['cores']} cores, Python {about['python']}\n")
    started = datetime.now(UTC)
    runs = [run_one(title, script, args) for title, (script, *args) in chosen]
    report = {"started": started.isoformat(), "ended": datetime.now(UTC).isoformat(), "machine": about, "runs": runs}
    options.out.write_bytes(msgspec.json.format(msgspec.json.encode(report)))
    print(f"figures written to {options.out}")
    return 1 if any(r["returncode"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
