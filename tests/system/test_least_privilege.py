"""Least privilege between the services, run as the manifests run them: each process with its own
token key, the others' public keys and the admin token's digest. What a compromised geo pod holds
cannot make an admin, staff or device token, nor a service token for more than geo's own reads; and a
device's rotated token is refused by all three within 5 s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from shared import keys
from shared.auth import TokenSigner, kid_of
from shared.settings import SERVICES
from tests.conftest import ADMIN_TOKEN, eventually
from tests.support.processes import ServiceProcess, free_port, separated_env


@pytest.fixture
def separated(db_url: str, tmp_path: Path) -> Iterator[dict[str, ServiceProcess]]:
    ports = {name: free_port() for name in SERVICES}
    processes: dict[str, ServiceProcess] = {}
    try:
        for name in SERVICES:
            env = separated_env(name, ports)
            processes[name] = ServiceProcess(name, db_url, tmp_path / name, port=ports[name], **env)
        yield processes
    finally:
        for process in processes.values():
            process.kill()


def environ_of(process: ServiceProcess) -> dict[str, str]:
    """What the running process was given (as a compromised pod's attacker would read it)."""
    raw = Path(f"/proc/{process.proc.pid}/environ").read_bytes()
    return dict(entry.split("=", 1) for entry in raw.decode().split("\0") if "=" in entry)


async def registered(notify: str) -> tuple[str, str]:
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{notify}/v1/devices", json={"platform": "ios", "locale": "fr-FR"})
    assert r.status_code == 201, r.text
    return r.json()["device_id"], r.json()["token"]


def device_reads(urls: dict[str, str], device_id: str) -> dict[str, str]:
    """One call per service that the device's own token may make."""
    return {
        "geo": f"{urls['geo']}/v1/devices/{device_id}/context",
        "inventory": f"{urls['inventory']}/v1/devices/{device_id}/orders",
        "notify": f"{urls['notify']}/v1/devices/{device_id}/consents",
    }


async def test_geos_environment_cannot_make_an_admin_staff_or_device_token(
    separated: dict[str, ServiceProcess],
) -> None:
    for process in separated.values():
        await process.ready()
    urls = {name: p.url for name, p in separated.items()}
    geo_env = environ_of(separated["geo"])
    assert ADMIN_TOKEN not in geo_env.values() and not geo_env.get("ACCUEIL_ADMIN_TOKEN")
    own_key = geo_env["ACCUEIL_TOKEN_KEY"]
    device_id, _ = await registered(urls["notify"])

    # Everything geo's key can sign, for every role and every issuer it could claim to be.
    key = keys.signing_key(own_key, 1)
    now = int(time.time())
    forged = [
        jwt.encode(
            {"iss": f"accueil:{iss}", "sub": sub, "role": role, "iat": now, "exp": now + 600, "store": "rivoli"},
            key,
            algorithm="EdDSA",
            headers={"kid": kid_of(kid_issuer, key.public_key())},
        )
        for iss in SERVICES
        for kid_issuer in SERVICES
        for role, sub in (("admin", "admin"), ("staff", "stf_1"), ("device", device_id), ("service", "notify"))
    ]
    # and every value of its environment taken as a bearer token (the admin token's digest among them)
    forged += [value for value in geo_env.values() if value]
    async with httpx.AsyncClient() as client:
        for token in forged:
            auth = {"Authorization": f"Bearer {token}"}
            answers = [
                await client.delete(f"{urls['notify']}/v1/staff/stf_nobody", headers=auth),  # the admin's call
                await client.get(device_reads(urls, device_id)["notify"], headers=auth),  # the device's
                await client.get(f"{urls['inventory']}/v1/devices/{device_id}/orders", headers=auth),
            ]
            assert [r.status_code for r in answers] == [401] * 3, token

        # What geo may sign, its own service token, opens only geo's reads and changes nothing.
        geo_token = TokenSigner(own_key, issuer="geo").issue("service", "geo", ttl_s=60)
        auth = {"Authorization": f"Bearer {geo_token}"}
        assert (await client.get(f"{urls['inventory']}/v1/orders/ord_none", headers=auth)).status_code == 404
        export = await client.get(f"{urls['inventory']}/v1/devices/{device_id}/orders", headers=auth)
        assert export.status_code == 403
        assert (await client.delete(f"{urls['notify']}/v1/staff/stf_nobody", headers=auth)).status_code == 403


async def test_a_rotated_device_token_is_refused_by_all_three_within_5_s(
    separated: dict[str, ServiceProcess],
) -> None:
    for process in separated.values():
        await process.ready()
    urls = {name: p.url for name, p in separated.items()}
    device_id, old = await registered(urls["notify"])
    reads = device_reads(urls, device_id)
    async with httpx.AsyncClient() as client:
        for url in reads.values():  # every service has verified (and remembers) the old token
            assert (await client.get(url, headers={"Authorization": f"Bearer {old}"})).status_code == 200
        rotated = await client.post(
            f"{urls['notify']}/v1/devices/{device_id}/token", headers={"Authorization": f"Bearer {old}"}
        )
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["token"]
        assert rotated.json()["device_id"] == device_id and new != old
        started = time.monotonic()

        async def all_refuse_the_old_one() -> bool:
            codes = [
                (await client.get(url, headers={"Authorization": f"Bearer {old}"})).status_code
                for url in reads.values()
            ]
            return codes == [401] * 3

        assert await eventually(all_refuse_the_old_one, timeout=5)
        assert time.monotonic() - started < 5
        for url in reads.values():
            assert (await client.get(url, headers={"Authorization": f"Bearer {new}"})).status_code == 200
        again = await client.post(
            f"{urls['notify']}/v1/devices/{device_id}/token", headers={"Authorization": f"Bearer {old}"}
        )
        assert again.status_code == 401  # the old token buys no second fresh one
