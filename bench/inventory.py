"""inventory benchmark: a 100,000-row stock import, and reservations per second under concurrent
clients, over HTTP against one inventory process (`accueil serve inventory`) on the embedded
PostgreSQL in a temporary folder.

    python bench/inventory.py [--rows 100000] [--clients 16] [--orders 3000]

Prints one line per figure. Figures depend on the machine; compare runs made on the same one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bench.report import figure  # noqa: E402
from shared.app import migrate  # noqa: E402
from shared.auth import TokenSigner  # noqa: E402
from shared.cli import service_spec  # noqa: E402
from shared.embedded_pg import EmbeddedPostgres  # noqa: E402

ADMIN_TOKEN = "bench-admin-token-0123456789"
TOKEN_KEY = "bench-token-key-0123456789-0123456789-abcdef"
SKUS_PER_STORE = 1000

Chooser = Callable[[random.Random], tuple[str, list[dict]]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_inventory(dsn: str, port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN,
        "ACCUEIL_TOKEN_KEY": TOKEN_KEY,
        "ACCUEIL_INVENTORY_PORT": str(port),
        "ACCUEIL_DATA_DIR": str(data_dir),
        "ACCUEIL_LOG_LEVEL": "WARNING",
        "ACCUEIL_MIGRATE_ON_START": "false",
        # The benchmark's clients order as fast as they can: no per-shopper limits.
        "ACCUEIL_MAX_OPEN_ORDERS": "100000",
        "ACCUEIL_MAX_OPEN_UNITS": "100000",
        "ACCUEIL_MAX_UNITS_PER_PRODUCT": "100000",
        "ACCUEIL_MAX_ORDERS_PER_HOUR": "100000",
    }
    return subprocess.Popen([sys.executable, "-m", "shared.cli", "serve", "inventory"], env=env)


async def wait_ready(http: httpx.AsyncClient, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"inventory exited with {server.returncode}")
        try:
            if (await http.get("/readyz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError("inventory did not become ready")


def stock_csv(stores: int, on_hand: int) -> bytes:
    lines = ["store_id,sku,on_hand"]
    lines += [f"store{s:03d},SKU{k:04d},{on_hand + k % 7}" for s in range(stores) for k in range(SKUS_PER_STORE)]
    return ("\n".join(lines) + "\n").encode()


def stock_json(stores: int, on_hand: int) -> bytes:
    rows = ",".join(
        f'{{"store_id":"store{s:03d}","sku":"SKU{k:04d}","on_hand":{on_hand + k % 5}}}'
        for s in range(stores)
        for k in range(SKUS_PER_STORE)
    )
    return f'{{"rows":[{rows}]}}'.encode()


async def timed_import(http: httpx.AsyncClient, body: bytes, content_type: str) -> tuple[float, dict]:
    started = time.perf_counter()
    r = await http.post("/v1/stock/import", content=body, headers={"content-type": content_type}, timeout=300)
    elapsed = time.perf_counter() - started
    r.raise_for_status()
    return elapsed, r.json()


async def reservations(
    http: httpx.AsyncClient, clients: int, total: int, choose: Chooser, signer: TokenSigner
) -> tuple[float, dict[int, int]]:
    """`clients` concurrent shoppers placing `total` orders between them; returns (orders/s, status counts)."""
    counts: dict[int, int] = {}
    remaining = iter(range(total))

    async def shopper(n: int) -> None:
        headers = {"Authorization": f"Bearer {signer.issue('device', f'bench_dev_{n}')}"}
        rng = random.Random(n)
        for _ in remaining:
            store_id, lines = choose(rng)
            r = await http.post(
                "/v1/orders",
                json={"store_id": store_id, "lines": lines, "display_name": "Bench"},
                headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
            )
            counts[r.status_code] = counts.get(r.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(shopper(n) for n in range(clients)))
    return total / (time.perf_counter() - started), counts


def spread(stores: int) -> Chooser:
    def choose(rng: random.Random) -> tuple[str, list[dict]]:
        skus = rng.sample(range(SKUS_PER_STORE), rng.randint(1, 3))
        return f"store{rng.randrange(stores):03d}", [{"sku": f"SKU{k:04d}", "qty": 1} for k in skus]

    return choose


def hot(rng: random.Random) -> tuple[str, list[dict]]:
    return "store000", [{"sku": "SKU0000", "qty": 1}]


async def bench(args: argparse.Namespace, dsn: str, data_dir: Path) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, service_spec("inventory"))
    finally:
        await conn.close()
    port = free_port()
    server = start_inventory(dsn, port, data_dir)
    signer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=admin, limits=limits, timeout=60
        ) as http:
            await wait_ready(http, server)
            sem = asyncio.Semaphore(args.clients)

            async def put_product(k: int) -> None:
                async with sem:
                    r = await http.put(
                        f"/v1/products/SKU{k:04d}", json={"name": f"Product {k}", "category": f"c{k % 20}"}
                    )
                    r.raise_for_status()

            await asyncio.gather(*(put_product(k) for k in range(SKUS_PER_STORE)))
            stores = max(1, args.rows // SKUS_PER_STORE)
            rows = stores * SKUS_PER_STORE
            print(f"machine: {os.cpu_count()} cores; one inventory process, embedded PostgreSQL")

            seconds, result = await timed_import(http, stock_csv(stores, 1000), "text/csv")
            figure("inventory.import_csv_new_rows", seconds, "s")
            print(f"import {rows:,} rows, CSV, new stock rows:      {seconds:6.2f} s  {result}")
            seconds, result = await timed_import(http, stock_json(stores, 2000), "application/json")
            figure("inventory.import_json_changed_rows", seconds, "s")
            print(f"import {rows:,} rows, JSON, every row changed: {seconds:6.2f} s  {result}")

            rate, counts = await reservations(http, args.clients, args.orders, spread(stores), signer)
            figure("inventory.reservations_spread", rate, "orders/s")
            print(
                f"reservations, {args.clients} clients, 1-3 lines over {rows:,} items: {rate:7.0f} orders/s  {counts}"
            )
            (await http.put("/v1/stores/store000/stock/SKU0000", json={"on_hand": 1_000_000})).raise_for_status()
            rate_hot, counts = await reservations(http, args.clients, args.orders, hot, signer)
            figure("inventory.reservations_one_item", rate_hot, "orders/s")
            print(f"reservations, {args.clients} clients, all on one item:        {rate_hot:7.0f} orders/s  {counts}")
            print(f"one hot item / spread ratio: {rate_hot / rate:.2f}")

            check = await http.get("/v1/stores/store000/stock", params={"sku": "SKU0000"})
            item = check.json()["items"][0]
            assert item["available"] >= 0 and item["reserved"] <= item["on_hand"], item
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows per import (a multiple of 1000)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients placing orders")
    parser.add_argument("--orders", type=int, default=3000, help="orders placed per reservation run")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="accueil-inventory-bench-"))
    server = EmbeddedPostgres(data_dir)
    try:
        asyncio.run(bench(args, server.start(), data_dir))
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
