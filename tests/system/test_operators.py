"""Operators: the admin names them by email with a role (a store manager with stores geo knows), lists
and removes them; a removed operator's tokens are refused by the three services within seconds."""

from __future__ import annotations

import time

import pytest

from shared.auth import TokenSigner
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System
from tests.support.builders import pickup_store
from tests.support.operators import accepted_everywhere, add_operator, refused_everywhere_within

SIGNER = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)


def operator_token(role: str, email: str, stores: list[str] | None = None) -> dict[str, str]:
    """What notify signs for an operator after single sign-on (the tests share notify's key)."""
    extra = {"stores": stores} if stores else None
    return System.bearer(SIGNER.issue(role, email, ttl_s=900, extra=extra))  # type: ignore[arg-type]


async def test_the_admin_names_operators_by_email_in_any_case_and_encoding(system: System) -> None:
    r = await system.notify.put(
        "/v1/operators/Marie.Curie+ops@Example.com", json={"role": "marketer"}, headers=system.admin
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"email": "marie.curie+ops@example.com", "role": "marketer", "stores": []}
    r = await system.notify.put(
        "/v1/operators/marie.curie%2Bops%40example.com", json={"role": "admin"}, headers=system.admin
    )
    assert (r.status_code, r.json()["role"]) == (200, "admin")
    await pickup_store(system)
    r = await system.notify.put(
        "/v1/operators/paul@example.com", json={"role": "store_manager", "stores": ["rivoli"]}, headers=system.admin
    )
    assert r.status_code == 200, r.text

    r = await system.notify.get("/v1/operators", headers=system.admin)
    assert r.json() == {
        "operators": [
            {"email": "marie.curie+ops@example.com", "role": "admin", "stores": []},
            {"email": "paul@example.com", "role": "store_manager", "stores": ["rivoli"]},
        ]
    }
    r = await system.notify.delete("/v1/operators/MARIE.CURIE+OPS@example.com", headers=system.admin)
    assert r.status_code == 204
    r = await system.notify.delete("/v1/operators/marie.curie+ops@example.com", headers=system.admin)
    assert (r.status_code, r.json()["field"]) == (404, "email")
    emails = [o["email"] for o in (await system.notify.get("/v1/operators", headers=system.admin)).json()["operators"]]
    assert emails == ["paul@example.com"]


@pytest.mark.parametrize(
    ("email", "body", "field"),
    [
        ("no-at-sign.example.com", {"role": "marketer"}, "email"),
        ("two@at@example.com", {"role": "marketer"}, "email"),
        ("a b@example.com", {"role": "marketer"}, "email"),
        ("x" * 64 + "@" + "d" * 190 + ".com", {"role": "marketer"}, "email"),  # 255 characters
        ("ana@example.com", {"role": "owner"}, "role"),
        ("ana@example.com", {"role": "store_manager"}, "stores"),
        ("ana@example.com", {"role": "store_manager", "stores": []}, "stores"),
        ("ana@example.com", {"role": "store_manager", "stores": ["rivoli", "nowhere"]}, "stores"),
        ("ana@example.com", {"role": "store_manager", "stores": ["bad id!"]}, "stores"),
        ("ana@example.com", {"role": "marketer", "stores": ["rivoli"]}, "stores"),
    ],
)
async def test_a_bad_operator_is_refused_naming_the_field_and_nothing_is_written(
    system: System, email: str, body: dict, field: str
) -> None:
    await pickup_store(system)
    r = await system.notify.put(f"/v1/operators/{email}", json=body, headers=system.admin)
    assert (r.status_code, r.json()["field"].partition("[")[0]) == (422, field), r.text
    assert (await system.notify.get("/v1/operators", headers=system.admin)).json() == {"operators": []}


async def test_only_the_admin_manages_operators(system: System) -> None:
    marketer = operator_token("marketer", "ana@example.com")
    assert (await system.notify.get("/v1/operators", headers=marketer)).status_code == 403
    r = await system.notify.put("/v1/operators/ana@example.com", json={"role": "admin"}, headers=marketer)
    assert r.status_code == 403
    admin_operator = operator_token("admin", "root@example.com")
    assert (await system.notify.get("/v1/operators", headers=admin_operator)).status_code == 200


async def test_a_removed_operator_is_refused_everywhere_within_seconds(system: System) -> None:
    await pickup_store(system)
    await add_operator(system, "paul@example.com", "store_manager", ["rivoli"])
    paul = operator_token("store_manager", "paul@example.com", ["rivoli"])
    await accepted_everywhere(system, paul)

    started = time.monotonic()
    r = await system.notify.delete("/v1/operators/Paul@Example.com", headers=system.admin)
    assert r.status_code == 204, r.text
    await refused_everywhere_within(system, paul, started)


async def test_without_single_sign_on_the_console_takes_the_admin_token(system: System) -> None:
    r = await system.notify.get("/console/session")
    assert (r.status_code, r.content) == (204, b"")
    r = await system.notify.get("/console/login")
    assert (r.status_code, r.json()["detail"]) == (
        404,
        "single sign-on is not configured: the console signs in with the admin token",
    )
