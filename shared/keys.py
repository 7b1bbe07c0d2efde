"""Each process's own secret, ACCUEIL_TOKEN_KEY, and a key of its own for each use, derived with HKDF
(RFC 5869).

Every service holds a token key of its own (a Deployment has only its own Secret). A key used for one
thing only cannot be turned against another: the key signing a service's tokens is not the one keying
its erasure pseudonyms. Tokens are signed with Ed25519 keys derived here: a service hands the others
only the public half (ACCUEIL_TOKEN_ISSUERS), so none of them can sign what another signs. Rotating
(ACCUEIL_TOKEN_KEY_VERSION) gives a new signing key and leaves the pseudonyms as they are, so a record
kept under a pseudonym still matches the device it came from.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SIGNING = "token signing"
PSEUDONYMS = "erasure pseudonyms"
ADDRESSES = "client address hashes"
REVOCATIONS = "revoked token subjects"
JOURNEY_ARMS = "journey arms"
RECEIPTS = "consent receipts"
SECRETS_AT_REST = "secrets at rest"
CONSOLE_SIGN_IN = "console sign-in round trip"


@lru_cache(maxsize=64)
def derive(master: str, purpose: str, version: int | None = None) -> bytes:
    """The 32-byte key for `purpose` (and, for keys meant to rotate, its version)."""
    info = f"accueil {purpose}" + (f" v{version}" if version is not None else "")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(master.encode())


def signing_key(master: str, version: int) -> Ed25519PrivateKey:
    """The Ed25519 key this process signs its tokens with (its seed derived like any other key)."""
    return Ed25519PrivateKey.from_private_bytes(derive(master, SIGNING, version))


def public_text(key: Ed25519PublicKey) -> str:
    """A public key as ACCUEIL_TOKEN_ISSUERS writes it: its 32 raw bytes, base64url without padding."""
    return b64url(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_of_text(text: str) -> Ed25519PublicKey:
    """The inverse of `public_text`; ValueError for anything that is not a 32-byte key."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise ValueError("a public key is base64url") from exc
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(key: Ed25519PublicKey) -> str:
    """The `kid` a token names its signing key by: a digest of the public key, so that keys of an issuer
    old and new (a rotation) can both be trusted for a while."""
    return b64url(hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).digest()[:12])


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64decode(text: str) -> bytes:
    """The inverse of `b64url`; ValueError for anything that is not base64url."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise ValueError("not base64url") from exc


def issuer_entry(service: str, master: str, version: int) -> str:
    """`service:public key` for ACCUEIL_TOKEN_ISSUERS, from the service's own token key."""
    return f"{service}:{public_text(signing_key(master, version).public_key())}"
