"""Tokens, signed and checked: roles, expiry, forgery, scope (across the running services:
tests/system/test_auth.py)."""

from __future__ import annotations

import math
import time

import jwt
import pytest

from shared import keys
from shared.auth import Principal, TokenSigner, refuse_revoked
from shared.errors import Forbidden, Unauthorized
from shared.revocation import RevocationWatcher, subject_digest
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
        signer.verify(jwt.encode(claims, keys.derive(TOKEN_KEY, keys.TOKENS, 1), algorithm="HS256"))


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


def test_a_revoked_subject_is_refused_whatever_its_role_and_the_admin_never() -> None:
    watcher = RevocationWatcher(keys.derive(TOKEN_KEY, keys.REVOCATIONS))
    for subject in ("stf_1", "dev_1", "admin"):
        watcher.add(subject)
    for role, subject in (("staff", "stf_1"), ("device", "dev_1")):
        with pytest.raises(Unauthorized, match="token revoked"):
            refuse_revoked(Principal(role=role, subject=subject, store_id="rivoli"), watcher.is_revoked)
    refuse_revoked(Principal(role="staff", subject="stf_2", store_id="rivoli"), watcher.is_revoked)
    refuse_revoked(Principal(role="admin", subject="admin"), watcher.is_revoked)


def test_a_subject_asked_about_before_its_revocation_is_refused_after_it() -> None:
    watcher = RevocationWatcher(keys.derive(TOKEN_KEY, keys.REVOCATIONS))
    assert not watcher.is_revoked("dev_1")  # its digest is now kept for the next request
    watcher.add("dev_1")
    assert watcher.is_revoked("dev_1") and not watcher.is_revoked("dev_2")


def test_the_revocation_list_keeps_a_keyed_hash_never_the_subject() -> None:
    key = keys.derive(TOKEN_KEY, keys.REVOCATIONS)
    digest = subject_digest(key, "dev_1")
    assert b"dev_1" not in digest and len(digest) == 32
    assert digest != subject_digest(keys.derive(TOKEN_KEY, keys.PSEUDONYMS), "dev_1")  # a key for this use alone
    assert subject_digest(key, "dev_1") == digest  # every process of every service finds the same


def test_a_token_carries_its_expiry_and_its_name_when_it_has_one() -> None:
    now = int(time.time())
    token = signer.issue("staff", "stf_1", store_id="rivoli", ttl_s=60, jti="t1", now=now)
    principal, claims = signer.claims(token)
    assert (principal.subject, principal.expires, claims["jti"]) == ("stf_1", now + 60, "t1")
    assert signer.verify(signer.issue("device", "dev_1")).expires == math.inf


def test_each_use_has_its_own_key_and_rotating_the_token_keys_keeps_the_pseudonyms() -> None:
    from shared.erasure import pseudonym

    token = signer.issue("device", "dev_1")
    with pytest.raises(Unauthorized):  # signed with the secret itself, a token is not one of ours
        signer.verify(jwt.encode({"iss": "accueil", "sub": "d", "role": "device", "iat": 0}, TOKEN_KEY))
    rotated = TokenSigner(TOKEN_KEY, ADMIN_TOKEN, version=2)
    with pytest.raises(Unauthorized):
        rotated.verify(token)
    assert rotated.verify(rotated.issue("device", "dev_1")).subject == "dev_1"
    import hashlib
    import hmac

    by_its_key = hmac.new(keys.derive(TOKEN_KEY, keys.PSEUDONYMS), b"dev_1", hashlib.sha256).hexdigest()[:32]
    assert pseudonym(TOKEN_KEY, "dev_1") == f"erased:{by_its_key}"  # no token key version in it
    assert keys.derive(TOKEN_KEY, keys.PSEUDONYMS) not in {keys.derive(TOKEN_KEY, keys.TOKENS, v) for v in (1, 2)}
    assert len({keys.derive(TOKEN_KEY, purpose) for purpose in (keys.TOKENS, keys.STREAM_TICKETS, keys.PSEUDONYMS,
                                                                  keys.ADDRESSES)}) == 4  # fmt: skip
