"""Secrets a service keeps in its database to use again (notify's VAPID private key and webhook
secrets), stored sealed: AES-256-GCM under a key derived from ACCUEIL_TOKEN_KEY (shared/keys.py,
`SECRETS_AT_REST`). A dump, a backup or a read-only database role holds no usable secret.

A sealed value is `key version (4 bytes, big-endian) | nonce (12 random bytes) | ciphertext | tag`.
What it is bound to goes in the associated data, with the version: the table, column and row it was
sealed for ("notify.webhooks secret crm"). Moved to another row, or altered by one bit, it is refused
(`Unsealable`), never opened as something else.

Rotation goes with the token keys. Raising ACCUEIL_TOKEN_KEY_VERSION seals from then on under that
version's key; a value sealed under any version stays readable, its key derived again from the same
ACCUEIL_TOKEN_KEY (during a rolling restart, a replica still on the old version reads what a new one
sealed, and the other way round). Whatever is stored in clear or under an older version is sealed
again under the current one when notify starts (the VAPID key, then the webhook secrets) and, for the
webhook secrets, every 10 minutes (a replica of a version before sealing may still store one in clear
during the rollout). Each pass selects only those rows, `FOR UPDATE`, and rewrites them in the same
transaction: replicas starting together wait for each other's locks, then find the rows already
current, so each value is sealed again once. Lowering the version back seals new values under the
lower one but leaves newer ones as they are (they stay readable): replicas on two versions during a
rollout do not seal the same rows back and forth.

A new ACCUEIL_TOKEN_KEY, not a new version, makes every sealed value unreadable: notify then refuses
to start on its stored VAPID key, and a webhook's deliveries fail until it is registered again.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared import keys

_VERSION = struct.Struct(">I")
NONCE_BYTES = 12
TAG_BYTES = 16


class Unsealable(ValueError):
    """Altered, sealed for another row, or under another ACCUEIL_TOKEN_KEY: nothing to tell them apart."""


def prefix_of(version: int) -> bytes:
    """The first bytes of every value sealed under `version`. Big-endian, so that compared as bytes
    (in SQL too) prefixes order as their versions do."""
    return _VERSION.pack(version)


def version_of(sealed: bytes) -> int:
    if len(sealed) < _VERSION.size + NONCE_BYTES + TAG_BYTES:
        raise Unsealable("too short to be a sealed value")
    (version,) = _VERSION.unpack_from(sealed)
    return int(version)


def seal(key: bytes, version: int, plaintext: bytes, associated_data: bytes) -> bytes:
    """`key`: the 32-byte key of `version`. A fresh random nonce each time: a key seals a few values per
    rotation, far from the 2^32 a random 96-bit nonce allows."""
    header = prefix_of(version)
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + AESGCM(key).encrypt(nonce, plaintext, header + associated_data)


def open_sealed(key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    """`key`: the key of the version `sealed` names (`version_of`)."""
    version_of(sealed)  # refuses what is too short to be a sealed value
    start = _VERSION.size + NONCE_BYTES
    header, nonce, body = sealed[: _VERSION.size], sealed[_VERSION.size : start], sealed[start:]
    try:
        return AESGCM(key).decrypt(nonce, body, header + associated_data)
    except InvalidTag:
        raise Unsealable("refused: altered, sealed for another row, or under another token key") from None


class Sealer:
    """Seals under the current version of the token key, opens what any version sealed."""

    def __init__(self, token_key: str, version: int) -> None:
        self._token_key = token_key
        self.version = version

    def _key(self, version: int) -> bytes:
        return keys.derive(self._token_key, keys.SECRETS_AT_REST, version)

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        return seal(self._key(self.version), self.version, plaintext, associated_data)

    def open(self, sealed: bytes, associated_data: bytes) -> bytes:
        return open_sealed(self._key(version_of(sealed)), sealed, associated_data)

    @property
    def prefix(self) -> bytes:
        """What a value sealed under the current version begins with: stored values below it are older."""
        return prefix_of(self.version)

    def stored(self, sealed: bytes | None, plain: str | None, associated_data: bytes) -> bytes:
        """What a row keeps: its sealed value opened, or, in a row written before values were sealed (or
        by a replica of that version during a rollout), its plain text."""
        if sealed is not None:
            return self.open(sealed, associated_data)
        if plain is None:
            raise Unsealable("nothing stored, sealed or plain")
        return plain.encode()
