"""The tiers (a test's folder gives its marker), and the fixtures: a real PostgreSQL (the embedded one
unless DATABASE_URL is set, started only when a test first asks for it), a fresh database per test
cloned from a migrated template, and the three services on real sockets."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import ssl
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import msgspec
import pytest
import uvicorn
from hypothesis import settings as hypothesis_settings

from services.notify.settings import NotifySettings
from shared.app import migrate
from shared.cli import service_spec
from shared.embedded_pg import EmbeddedPostgres
from shared.settings import SERVICES, Settings, load_settings
from tests.support.push_service import LocalPushService
from tests.support.webhook_receiver import WebhookReceiver

if TYPE_CHECKING:
    from tests.support.oidc import Provider

# Hypothesis' per-example deadline is a timed assertion: on a loaded machine (four test workers on
# two cores) a correct example can take longer than 200 ms. Performance is measured in bench/.
hypothesis_settings.register_profile("accueil", deadline=None)
hypothesis_settings.load_profile("accueil")

ADMIN_TOKEN = "test-admin-token-0123456789"
TOKEN_KEY = "test-token-key-0123456789-0123456789-abcdef"
TEMPLATE = "accueil_test_template"

T = TypeVar("T")

TLS = ssl.create_default_context()
"""The one TLS context of the tests' HTTP clients: a client made without one reads the CA bundle again
(tens of milliseconds of CPU each time), and these clients speak plain HTTP to 127.0.0.1 anyway."""

KEEP_ALIVE = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=2)
"""httpx's own limits, but an idle connection is dropped well before uvicorn closes it (after 5 s): a
request sent on a connection just as the server closes it fails (ReadError), and nothing retries a POST."""

# The test pyramid, one folder per tier; a test's folder is its marker (`pytest -m unit`), so no test
# marks itself and none can sit outside a tier.
TESTS = Path(__file__).parent
TIERS = ("unit", "service", "system", "browser", "k8s")
AREAS = ("geo", "inventory", "notify", "shared")  # unit and service tests go in one of these
TIERS_WITH_AREAS = ("unit", "service")


def tier_of(path: Path) -> str:
    """The tier of a test file, from where it is; anywhere else stops the run with the reason."""
    try:
        parts = path.relative_to(TESTS).parts
    except ValueError:
        parts = ()
    if len(parts) < 2 or parts[0] not in TIERS:
        raise pytest.UsageError(f"{path}: a test belongs in one of tests/{{{','.join(TIERS)}}}/")
    if parts[0] in TIERS_WITH_AREAS and (len(parts) < 3 or parts[1] not in AREAS):
        raise pytest.UsageError(f"{path}: a {parts[0]} test belongs in tests/{parts[0]}/{{{','.join(AREAS)}}}/")
    return parts[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item.path)
        # Every database fixture rests on server_dsn: a unit test asking for one is in the wrong tier
        # (and would start PostgreSQL for `make test-fast`).
        if tier == "unit" and "server_dsn" in getattr(item, "fixturenames", ()):
            raise pytest.UsageError(f"{item.nodeid}: a unit test uses no database; move it to tests/service/")
        item.add_marker(tier)


# `make test` spreads the tests over pytest-xdist workers (`--dist loadgroup`). A test is independent of
# every other (a database of its own on its worker's server, its own ports, its own temp dirs) unless
# it is in one of these groups, whose tests run in one worker, one after another.
WORKER_GROUPS = {
    "tests/browser/": "browser",  # one Chromium at a time: the pages' timers (batches, Retry-After) are real
    "tests/system/test_fuzzing.py": "fuzzing",  # its module-scoped `accueil run` starts once, not once per worker
}


def worker_group(nodeid: str) -> str | None:
    return next((group for prefix, group in WORKER_GROUPS.items() if nodeid.startswith(prefix)), None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` with the groups above. They are read off the test ids, where the scheduler
    looks: pytest-xdist 3.8 no longer sees an `xdist_group` marker under pytest 9.2 (its issue 1386)."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class Grouped(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid) or super()._split_scope(nodeid)

    return Grouped(config, log)


def with_database(dsn: str, name: str) -> str:
    """The same server, another database: works for TCP URLs and for unix-socket URLs (?host=)."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


# The embedded server is thrown away with its temp dir: on a disk, what makes commits survive a crash
# of the machine only costs the tests time.
THROWAWAY_SERVER = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_wal_size": "128MB",  # in memory (below), each clone's WAL is RAM until a checkpoint frees it
}
IN_MEMORY = Path("/dev/shm")
IN_MEMORY_ROOM = 2 * 1024**3


def server_parent_dir() -> Path | None:
    """Where the test server's temp dir goes: in memory when there is room. A clone of the template
    creates some 800 files, and on ext4 finding inodes for them among those of the clones just dropped
    took ~0.4 s of kernel CPU each time, against 0.04 s on tmpfs. None: the usual temp dir."""
    try:
        return IN_MEMORY if shutil.disk_usage(IN_MEMORY).free >= IN_MEMORY_ROOM else None
    except OSError:
        return None


@pytest.fixture(scope="session")
async def server_dsn() -> AsyncIterator[str]:
    """A PostgreSQL server for the session: DATABASE_URL if given (left as it is configured), else an
    embedded one in a temp dir (one per pytest-xdist worker: each worker is a session of its own)."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    data_dir = Path(tempfile.mkdtemp(prefix="accueil-tests-", dir=server_parent_dir()))
    server = EmbeddedPostgres(data_dir)
    try:
        dsn = server.start()
        admin = await _admin_conn(dsn)
        try:
            for name, value in THROWAWAY_SERVER.items():
                await admin.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            await admin.execute("SELECT pg_reload_conf()")
        finally:
            await admin.close()
        yield dsn
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def _admin_conn(server_dsn: str) -> asyncpg.Connection:
    return await asyncpg.connect(with_database(server_dsn, "postgres"))


@pytest.fixture(scope="session")
async def template_db(server_dsn: str) -> AsyncIterator[str]:
    """A database with every migration applied, cloned for each test (fast: no per-test migration)."""
    admin = await _admin_conn(server_dsn)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
        conn = await asyncpg.connect(with_database(server_dsn, TEMPLATE))
        try:
            for name in SERVICES:
                await migrate(conn, service_spec(name))
        finally:
            await conn.close()
        yield TEMPLATE
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        await admin.close()


@asynccontextmanager
async def new_database(server_dsn: str, template: str | None = None) -> AsyncIterator[str]:
    """A database of its own on the session's server, dropped after: a clone of `template`, or empty."""
    name = f"accueil_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin_conn(server_dsn)
    try:
        await admin.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        yield with_database(server_dsn, name)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def db_url(server_dsn: str, template_db: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    async with new_database(server_dsn, template_db) as url:
        yield url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    from shared.db import connect

    conn = await connect(db_url)
    try:
        yield conn
    finally:
        await conn.close()


def free_socket(port: int = 0) -> socket.socket:
    # IPPROTO_TCP said, as uvicorn's own socket says it: asyncio turns Nagle's algorithm off only on
    # connections accepted from such a socket. Left on, every answer waited ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def settings_for(db_url: str, ports: dict[str, int] | None = None, **overrides: Any) -> Settings:
    env = {"DATABASE_URL": db_url, "ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN, "ACCUEIL_TOKEN_KEY": TOKEN_KEY}
    for name, port in (ports or {}).items():
        env[f"ACCUEIL_{name.upper()}_PORT"] = str(port)
    return load_settings(env, bus_poll_s=0.5, **overrides)


class System:
    """The three services running on real sockets against one test database."""

    def __init__(self, settings: Settings, clients: dict[str, httpx.AsyncClient], running: RunningServices) -> None:
        self.settings = settings
        self.running = running
        self.geo = clients["geo"]
        self.inventory = clients["inventory"]
        self.notify = clients["notify"]
        self.admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


class RunningServices:
    def __init__(
        self,
        settings: Settings,
        names: tuple[str, ...],
        sockets: dict[str, socket.socket],
        configs: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.names = names
        self.sockets = sockets
        # A socket already closed is one a test reopens itself before starting that service.
        self.ports = {name: sock.getsockname()[1] for name, sock in sockets.items() if sock.fileno() != -1}
        self.configs = configs or {}  # a service's own settings (state.config); default: from the environment
        self.servers: dict[str, uvicorn.Server] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    async def start(self, name: str, *, as_name: str | None = None) -> None:
        """Start a service's app on its socket (as_name: a replica's own key in sockets/servers)."""
        key = as_name or name
        app = __import__(f"services.{name}.app", fromlist=["create_app"]).create_app(
            self.settings, self.configs.get(name)
        )
        # As `accueil serve` runs it: the client address is ours to judge (shared.clients), not uvicorn's.
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", proxy_headers=False)
        server = uvicorn.Server(config)
        self.servers[key] = server
        if self.sockets[key].fileno() == -1:  # closed by an earlier stop: listen again on the same port
            self.sockets[key] = free_socket(self.ports[key])
        self.tasks[key] = asyncio.create_task(server.serve(sockets=[self.sockets[key]]))
        deadline = time.monotonic() + 20
        while not server.started:
            if self.tasks[key].done():
                raise RuntimeError(f"{key} failed to start: {self.tasks[key].exception()!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{key} did not start")
            await asyncio.sleep(0.02)

    def state(self, name: str) -> Any:
        """The running service's context (database, index, config), to run its jobs at a chosen time."""
        return self.servers[name].config.app.state.ctx

    async def start_replica(self, name: str) -> str:
        """Another process-like instance of a service (own app, own pool, own index) on the same database."""
        sock = free_socket()
        replica = f"{name}#{len(self.sockets)}"
        self.sockets[replica] = sock
        self.ports[replica] = sock.getsockname()[1]
        await self.start(name, as_name=replica)
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def restart_on_version(self, version: int) -> None:
        """What the operator does: ACCUEIL_TOKEN_KEY_VERSION raised for the three services, restarted."""
        await asyncio.gather(*(self.stop(name) for name in self.names))
        self.settings = msgspec.structs.replace(self.settings, token_key_version=version)
        for name in self.names:
            await self.start(name)

    async def stop(self, name: str) -> None:
        server = self.servers.pop(name, None)
        if server is None:
            return
        server.should_exit = True
        await self.tasks.pop(name)


@asynccontextmanager
async def one_service(db_url: str, name: str, config: Any = None) -> AsyncIterator[RunningServices]:
    """One service alone on a socket of its own, against the test's database (`config`: its own
    settings; default: from the environment)."""
    sock = free_socket()
    run = RunningServices(
        settings_for(db_url, {name: sock.getsockname()[1]}), (name,), {name: sock}, {name: config} if config else None
    )
    try:
        await run.start(name)
        yield run
    finally:
        await run.stop(name)
        sock.close()


@pytest.fixture
async def push() -> AsyncIterator[LocalPushService]:
    """The browsers' push service, stood in for by a local endpoint that checks VAPID and decrypts."""
    async with LocalPushService() as service:
        yield service


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    """An operator's webhook endpoint on a loopback port (list `receiver.host` in notify's webhook_hosts)."""
    async with WebhookReceiver() as r:
        yield r


TESTING_NOTIFY = NotifySettings(registrations_per_hour=100_000, console_tile_url="")
"""Every test's shoppers register from 127.0.0.1: the per-address budget has tests of its own. The
console draws no map tiles (no test reaches the internet); the tests of the tiles set their own server."""


Configs = dict[str, Any] | Callable[[dict[str, int]], dict[str, Any]]
"""The services' own settings by name, or made from the ports they will listen on (a setting naming
notify's own public address)."""


@pytest.fixture
def configs() -> Configs:
    """The services' own settings for `running`, by service name; override this fixture to change them."""
    return {"notify": TESTING_NOTIFY}


@pytest.fixture
def provider() -> Iterator[Provider]:
    """The retailer's OpenID Connect provider, a real one on a loopback port (tests/support/oidc.py); a
    module whose services sign operators in with it sets `configs` to `provider.settings()`."""
    from tests.support.oidc import oidc_provider

    with oidc_provider() as p:
        yield p


@pytest.fixture
def push_hosts(push: LocalPushService) -> tuple[str, ...]:
    """ACCUEIL_PUSH_HOSTS for `running`: the local push services notify may reach; override to add some."""
    return (push.host,)


@pytest.fixture
async def running(db_url: str, push_hosts: tuple[str, ...], configs: Configs) -> AsyncIterator[RunningServices]:
    sockets = {name: free_socket() for name in SERVICES}
    ports = {name: s.getsockname()[1] for name, s in sockets.items()}
    # As `accueil run` does: pages notify serves may call geo and inventory (the shopper page).
    origins = (f"http://127.0.0.1:{ports['notify']}",)
    settings = settings_for(db_url, ports, push_hosts=push_hosts, cors_origins=origins)
    run = RunningServices(settings, SERVICES, sockets, configs(ports) if callable(configs) else configs)
    try:
        for name in SERVICES:
            await run.start(name)
        yield run
    finally:
        # Side by side: each server takes a tick of its main loop and its lifespan's shutdown to stop.
        await asyncio.gather(*(run.stop(name) for name in list(run.servers)))
        for s in run.sockets.values():
            s.close()


@pytest.fixture
async def system(running: RunningServices) -> AsyncIterator[System]:
    settings = running.settings
    clients = {
        name: httpx.AsyncClient(base_url=settings.url_of(name), timeout=10, verify=TLS, limits=KEEP_ALIVE)
        for name in SERVICES
    }
    try:
        yield System(settings, clients, running)
    finally:
        for client in clients.values():
            await client.aclose()


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout: float = 10.0, interval: float = 0.05) -> T:
    """Poll until the probe returns something truthy (effects of the bus are asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)
