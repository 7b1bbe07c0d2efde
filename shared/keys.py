"""One secret, ACCUEIL_TOKEN_KEY, and a key of its own for each use, derived with HKDF (RFC 5869).

A key used for one thing only cannot be turned against another: a stream ticket is not signed like a
bearer token, and neither is keyed like an erasure pseudonym. Rotating the token keys
(ACCUEIL_TOKEN_KEY_VERSION) signs every token anew and leaves the pseudonyms as they are, so a record
kept under a pseudonym still matches the device it came from.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOKENS = "bearer tokens"
STREAM_TICKETS = "stream tickets"
PSEUDONYMS = "erasure pseudonyms"
ADDRESSES = "client address hashes"
REVOCATIONS = "revoked token subjects"
JOURNEY_ARMS = "journey arms"
SECRETS_AT_REST = "secrets at rest"


@lru_cache(maxsize=64)
def derive(master: str, purpose: str, version: int | None = None) -> bytes:
    """The 32-byte key for `purpose` (and, for keys meant to rotate, its version)."""
    info = f"accueil {purpose}" + (f" v{version}" if version is not None else "")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(master.encode())
