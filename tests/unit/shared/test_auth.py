"""Tokens, signed and checked: roles, expiry, forgery, scope (across the running services:
tests/system/test_auth.py)."""

from __future__ import annotations

import jwt
import pytest

from shared.auth import TokenSigner
from shared.errors import Forbidden, Unauthorized
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY

signer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)


def test_a_device_token_names_its_device() -> None:
    principal = signer.verify(signer.issue("device", "dev_1"))
    assert principal.role == "device" and principal.subject == "dev_1"


def test_a_token_signed_with_another_key_is_refused() -> None:
    forged = TokenSigner("another-key-" + "x" * 40, ADMIN_TOKEN).issue("device", "dev_1")
    with pytest.raises(Unauthorized, match="invalid"):
        signer.verify(forged)


def test_an_expired_token_is_refused() -> None:
    with pytest.raises(Unauthorized, match="expired"):
        signer.verify(signer.issue("device", "dev_1", ttl_s=-10))


def test_a_token_with_an_admin_role_claim_is_not_admin() -> None:
    claims = {"iss": "accueil", "sub": "me", "role": "admin", "iat": 0}
    with pytest.raises(Unauthorized):
        signer.verify(jwt.encode(claims, TOKEN_KEY, algorithm="HS256"))


def test_a_device_may_act_on_itself_only() -> None:
    device = signer.verify(signer.issue("device", "dev_1"))
    device.require_device("dev_1")
    with pytest.raises(Forbidden):
        device.require_device("dev_2")
    with pytest.raises(Forbidden):
        device.require_admin()


def test_staff_may_act_on_their_own_store_only() -> None:
    staff = signer.verify(signer.issue("staff", "st_1", store_id="rivoli"))
    staff.require_store("rivoli")
    with pytest.raises(Forbidden):
        staff.require_store("opera")
    assert staff.can_see("dev_1", "rivoli") and not staff.can_see("dev_1", "opera")
