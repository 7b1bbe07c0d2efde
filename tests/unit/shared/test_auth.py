"""Tokens, signed and checked: roles, expiry, forgery, scope (across the running services:
tests/system/test_auth.py)."""

from __future__ import annotations

import hashlib
import math
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from shared import keys
from shared.auth import Issuers, Principal, TokenSigner, kid_of, refuse_revoked
from shared.errors import Forbidden, Unauthorized
from shared.revocation import RevocationWatcher
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY

signer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)


def test_a_device_token_names_its_device() -> None:
    principal = signer.verify(signer.issue("device", "dev_1"))
    assert principal.role == "device" and principal.subject == "dev_1"


def test_a_full_cache_of_verified_tokens_forgets_its_oldest_and_keeps_the_recent_ones() -> None:
    small = TokenSigner(TOKEN_KEY, ADMIN_TOKEN, cache_size=10)
    tokens = [small.issue("device", f"dev_{i}") for i in range(11)]
    for token in tokens:
        assert small.verify(token).subject == small.decode(token)[0].subject
    remembered = set(small._verified)
    assert tokens[0] not in remembered and set(tokens[1:]) <= remembered


def test_a_token_signed_with_another_key_is_refused() -> None:
    forged = TokenSigner("another-key-" + "x" * 40, ADMIN_TOKEN).issue("device", "dev_1")
    with pytest.raises(Unauthorized, match="invalid"):
        signer.verify(forged)


def test_an_expired_token_is_refused() -> None:
    with pytest.raises(Unauthorized, match="expired"):
        signer.verify(signer.issue("device", "dev_1", ttl_s=-10))


def test_only_notifys_signature_makes_an_admin_and_it_names_the_operator() -> None:
    admin = signer.verify(signer.issue("admin", "ops@example.com", ttl_s=600))
    assert admin.is_admin and admin.subject == "ops@example.com" and admin.subject_mark is not None
    claims = {"iss": "accueil:geo", "sub": "me", "role": "admin", "iat": 0}
    key = keys.signing_key(TOKEN_KEY, 1)
    with pytest.raises(Unauthorized):  # the same key, but geo may not grant it
        signer.verify(jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid_of("geo", key.public_key())}))


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
    watcher = RevocationWatcher()
    until = datetime.now(UTC) + timedelta(hours=1)
    for subject in ("stf_1", "dev_1"):
        watcher.add(signer.subject_mark(subject), until)
    staff, device = (
        signer.verify(signer.issue("staff", "stf_1", store_id="rivoli")),
        signer.verify(signer.issue("device", "dev_1")),
    )
    for principal in (staff, device):
        with pytest.raises(Unauthorized, match="token revoked"):
            refuse_revoked(principal, watcher.is_revoked)
    refuse_revoked(signer.verify(signer.issue("staff", "stf_2", store_id="rivoli")), watcher.is_revoked)
    refuse_revoked(signer.verify(ADMIN_TOKEN), watcher.is_revoked)


def test_a_rotated_token_is_refused_and_the_devices_next_token_is_not() -> None:
    watcher = RevocationWatcher()
    old = signer.verify(signer.issue("device", "dev_1", ttl_s=600))
    assert old.token_id is not None
    watcher.add(old.token_id, datetime.fromtimestamp(old.expires, UTC))
    assert watcher.is_revoked(old)
    assert not watcher.is_revoked(signer.verify(signer.issue("device", "dev_1", ttl_s=600)))


def test_revocations_of_expired_tokens_are_forgotten() -> None:
    watcher = RevocationWatcher()
    watcher.add("gone", datetime.now(UTC) - timedelta(seconds=1))
    watcher.add("kept", datetime.now(UTC) + timedelta(hours=1))
    assert watcher.size == 1  # the first learning sweeps at once


def test_the_subject_mark_names_no_one_and_needs_notifys_key() -> None:
    mark = signer.subject_mark("dev_1")
    assert "dev_1" not in mark and len(mark) == 43  # 32 bytes, base64url
    assert mark == TokenSigner(TOKEN_KEY, ADMIN_TOKEN).subject_mark("dev_1")  # every token of the device
    assert mark != TokenSigner("another-key-" + "x" * 40, ADMIN_TOKEN).subject_mark("dev_1")


def test_a_token_carries_its_expiry_and_its_name_when_it_has_one() -> None:
    now = int(time.time())
    token = signer.issue("staff", "stf_1", store_id="rivoli", ttl_s=60, jti="t1", now=now)
    principal, claims = signer.claims(token)
    assert (principal.subject, principal.expires, claims["jti"]) == ("stf_1", now + 60, "t1")
    assert signer.verify(signer.issue("device", "dev_1")).expires == math.inf


def test_each_use_has_its_own_key_and_rotating_the_token_keys_keeps_the_pseudonyms() -> None:
    from shared.erasure import pseudonym

    token = signer.issue("device", "dev_1")
    with pytest.raises(Unauthorized):  # signed with the secret itself (HS256, as before), a token is not ours
        signer.verify(jwt.encode({"iss": "accueil:notify", "sub": "d", "role": "device", "iat": 0}, TOKEN_KEY))
    rotated = TokenSigner(TOKEN_KEY, ADMIN_TOKEN, version=2)
    with pytest.raises(Unauthorized):
        rotated.verify(token)
    assert rotated.verify(rotated.issue("device", "dev_1")).subject == "dev_1"
    import hmac

    by_its_key = hmac.new(keys.derive(TOKEN_KEY, keys.PSEUDONYMS), b"dev_1", hashlib.sha256).hexdigest()[:32]
    assert pseudonym(TOKEN_KEY, "dev_1") == f"erased:{by_its_key}"  # no token key version in it
    assert keys.derive(TOKEN_KEY, keys.PSEUDONYMS) not in {keys.derive(TOKEN_KEY, keys.SIGNING, v) for v in (1, 2)}
    assert len({keys.derive(TOKEN_KEY, purpose) for purpose in (keys.SIGNING, keys.REVOCATIONS, keys.PSEUDONYMS,
                                                                  keys.ADDRESSES)}) == 4  # fmt: skip


GEO_KEY, INVENTORY_KEY = "geo-token-key-" + "g" * 40, "inventory-token-key-" + "i" * 40
ISSUERS = Issuers.parse([keys.issuer_entry("notify", TOKEN_KEY, 1), keys.issuer_entry("geo", GEO_KEY, 1),
                         keys.issuer_entry("inventory", INVENTORY_KEY, 1)])  # fmt: skip


def test_each_issuer_grants_only_what_it_may() -> None:
    notify = TokenSigner(TOKEN_KEY, ADMIN_TOKEN, issuer="notify", issuers=ISSUERS)
    geo = TokenSigner(
        GEO_KEY, issuer="geo", issuers=ISSUERS, admin_sha256=hashlib.sha256(ADMIN_TOKEN.encode()).digest()
    )
    assert geo.verify(notify.issue("device", "dev_1")).role == "device"  # notify's tokens work everywhere
    assert notify.verify(geo.issue("service", "geo")).subject == "geo"
    for role, subject in (("device", "dev_1"), ("staff", "stf_1"), ("service", "notify")):
        with pytest.raises(ValueError):
            geo.issue(role, subject, store_id="rivoli")  # type: ignore[arg-type]
    assert geo.verify(ADMIN_TOKEN).is_admin  # geo recognises the admin token by its digest alone


def test_a_token_forged_with_geos_key_for_any_other_role_is_refused() -> None:
    """What a compromised geo pod could sign, bypassing the signer's own checks."""
    notify = TokenSigner(TOKEN_KEY, ADMIN_TOKEN, issuer="notify", issuers=ISSUERS)
    key = keys.signing_key(GEO_KEY, 1)
    for iss, role, subject in (("geo", "device", "dev_1"), ("notify", "device", "dev_1"), ("geo", "staff", "stf_1"),
                               ("geo", "service", "notify"), ("geo", "admin", "admin")):  # fmt: skip
        claims = {"iss": f"accueil:{iss}", "sub": subject, "role": role, "iat": int(time.time()), "store": "rivoli"}
        for kid in (kid_of("geo", key.public_key()), kid_of("notify", key.public_key())):
            with pytest.raises(Unauthorized):
                notify.verify(jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid}))


def test_an_operator_token_carries_its_role_and_a_store_manager_its_stores() -> None:
    manager = signer.verify(signer.issue("store_manager", "sam@example.com", extra={"stores": ["rivoli"]}))
    assert (manager.role, manager.subject, manager.stores) == ("store_manager", "sam@example.com", ("rivoli",))
    manager.require_store("rivoli")
    with pytest.raises(Forbidden):
        manager.require_store("opera")
    assert manager.can_see("dev_1", "rivoli") and not manager.can_see("dev_1", "opera")
    with pytest.raises(Forbidden):
        manager.require_role("marketer")
    marketer = signer.verify(signer.issue("marketer", "mia@example.com"))
    marketer.require_role("marketer")
    with pytest.raises(Forbidden):
        marketer.require_admin()
    with pytest.raises(Unauthorized):  # a store manager with no store is no token of ours
        signer.verify(signer.issue("store_manager", "sam@example.com"))
    geo = TokenSigner("geo-token-key-" + "g" * 40, issuer="geo", issuers=ISSUERS)
    with pytest.raises(ValueError):
        geo.issue("marketer", "mia@example.com")


def test_a_store_manager_manages_their_own_stores_and_no_other_operator_but_the_admin_does() -> None:
    manager = signer.verify(signer.issue("store_manager", "sam@example.com", extra={"stores": ["rivoli", "opera"]}))
    manager.require_store_manager("rivoli")
    manager.require_store_manager("opera")
    with pytest.raises(Forbidden, match="own stores"):
        manager.require_store_manager("bastille")
    signer.verify(ADMIN_TOKEN).require_store_manager("bastille")
    signer.verify(signer.issue("admin", "ops@example.com")).require_store_manager("bastille")
    for role, subject, store in (("marketer", "mia@example.com", None), ("staff", "st_1", "rivoli")):
        with pytest.raises(Forbidden, match="admin or store_manager"):
            signer.verify(signer.issue(role, subject, store_id=store)).require_store_manager("rivoli")
    with pytest.raises(Forbidden):
        Principal(role="service", subject="geo").require_store_manager("rivoli")


def test_limiting_operators_leaves_devices_staff_and_services_to_the_route() -> None:
    manager = signer.verify(signer.issue("store_manager", "sam@example.com", extra={"stores": ["rivoli"]}))
    marketer = signer.verify(signer.issue("marketer", "mia@example.com"))
    manager.limit_operators("store_manager", store_id="rivoli")
    manager.limit_operators("marketer", "store_manager")  # not about one store
    with pytest.raises(Forbidden, match="own stores"):
        manager.limit_operators("marketer", "store_manager", store_id="opera")
    with pytest.raises(Forbidden, match="admin or marketer"):
        manager.limit_operators("marketer")
    marketer.limit_operators("marketer", store_id="opera")
    with pytest.raises(Forbidden, match="admin or store_manager"):
        marketer.limit_operators("store_manager", store_id="rivoli")
    for other in (
        signer.verify(ADMIN_TOKEN),
        signer.verify(signer.issue("device", "dev_1")),
        signer.verify(signer.issue("staff", "st_1", store_id="opera")),
        Principal(role="service", subject="notify"),
    ):
        other.limit_operators(store_id="rivoli")  # no operator role named: only operators are refused


def test_trusted_reads_may_open_to_operator_roles_too() -> None:
    marketer = signer.verify(signer.issue("marketer", "mia@example.com"))
    with pytest.raises(Forbidden):
        marketer.require_trusted()
    marketer.require_trusted("marketer")
    with pytest.raises(Forbidden, match="admin, store_manager or another accueil service"):
        marketer.require_trusted("store_manager")
    Principal(role="service", subject="notify").require_trusted("marketer")
    with pytest.raises(Forbidden):
        signer.verify(signer.issue("device", "dev_1")).require_trusted("marketer", "store_manager")
