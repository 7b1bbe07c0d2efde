"""Secrets sealed at rest: opened only for the row they were sealed for, under a key of the same token
key; any version still opens, and versions order as the bytes they begin with."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.sealed import Sealer, Unsealable, prefix_of, version_of

TOKEN_KEY = "a-token-key-of-at-least-32-characters-0123"
SECRET = b"whsec_c2VjcmV0IHRoYXQgbXVzdCBub3QgbGVhaw=="
ROW = b"notify.webhooks secret crm"


def test_a_sealed_secret_opens_for_its_row_and_holds_no_trace_of_it() -> None:
    sealer = Sealer(TOKEN_KEY, 1)
    sealed = sealer.seal(SECRET, ROW)
    assert sealer.open(sealed, ROW) == SECRET
    assert SECRET not in sealed and SECRET[6:] not in sealed
    assert sealer.seal(SECRET, ROW) != sealed  # a fresh nonce each time: equal secrets do not show


def test_any_altered_byte_is_refused() -> None:
    sealer = Sealer(TOKEN_KEY, 1)
    sealed = sealer.seal(SECRET, ROW)
    for i in range(len(sealed)):
        for bit in (0x01, 0x80):
            altered = bytearray(sealed)
            altered[i] ^= bit
            with pytest.raises(Unsealable):
                sealer.open(bytes(altered), ROW)
    for cut in (sealed[:-1], sealed[:20], b""):
        with pytest.raises(Unsealable):
            sealer.open(cut, ROW)


def test_another_rows_sealed_secret_is_refused() -> None:
    sealer = Sealer(TOKEN_KEY, 1)
    sealed = sealer.seal(SECRET, ROW)
    for other in (b"notify.webhooks secret crm2", b"notify.webhooks secret cr", b"notify.vapid_keys private_key"):
        with pytest.raises(Unsealable):
            sealer.open(sealed, other)


def test_another_token_key_opens_nothing() -> None:
    sealed = Sealer(TOKEN_KEY, 1).seal(SECRET, ROW)
    with pytest.raises(Unsealable):
        Sealer(TOKEN_KEY + "x", 1).open(sealed, ROW)


def test_every_version_opens_under_the_same_token_key_and_names_its_own() -> None:
    old, new = Sealer(TOKEN_KEY, 1), Sealer(TOKEN_KEY, 2)
    sealed_old, sealed_new = old.seal(SECRET, ROW), new.seal(SECRET, ROW)
    assert (version_of(sealed_old), version_of(sealed_new)) == (1, 2)
    assert new.open(sealed_old, ROW) == old.open(sealed_new, ROW) == SECRET
    assert sealed_old < new.prefix <= sealed_new  # what the SQL of the re-sealing pass compares


def test_the_version_is_bound_too() -> None:
    sealed = Sealer(TOKEN_KEY, 1).seal(SECRET, ROW)
    moved = prefix_of(2) + sealed[4:]  # the same nonce and ciphertext, said to be of another version
    with pytest.raises(Unsealable):
        Sealer(TOKEN_KEY, 2).open(moved, ROW)


def test_a_row_kept_from_before_sealing_is_read_in_clear_until_sealed() -> None:
    sealer = Sealer(TOKEN_KEY, 1)
    assert sealer.stored(None, SECRET.decode(), ROW) == SECRET
    assert sealer.stored(sealer.seal(SECRET, ROW), None, ROW) == SECRET
    with pytest.raises(Unsealable):
        sealer.stored(None, None, ROW)


@given(st.integers(1, 2**32 - 1), st.integers(1, 2**32 - 1), st.binary(max_size=64))
def test_versions_order_as_their_sealed_bytes(a: int, b: int, secret: bytes) -> None:
    sealed = Sealer(TOKEN_KEY, a).seal(secret, ROW)
    assert (sealed < prefix_of(b)) == (a < b)
    assert version_of(sealed) == a
