"""Consent receipts: what a shopper can keep and show anyone, proof of what they answered.

Each entry of a device's consent history is answered with a receipt in the shape of ISO/IEC TS 27560
(which controller, which purposes granted or withdrawn, under which policy version, when, how it was
collected), signed as a compact JWS with an Ed25519 key of notify's own (`alg` "Ed25519", the fully specified name
RFC 9864 gives what "EdDSA" left open), derived from its token
key for this use alone (shared/keys.py). Anyone verifies it with `GET /.well-known/jwks.json`, which
lists the key of every token-key version up to the current one: a receipt signed before a rotation
still verifies after it.

A receipt is made when the history is read, the same entry always giving the same claims (its id
derives from the entry's), so nothing more is stored, and an erased device's history, kept under a
pseudonym, yields none.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import OKPAlgorithm
from jwt.api_jws import PyJWS

from shared import keys

SCHEMA = "ISO/IEC TS 27560:2023"
ALGORITHM = "Ed25519"
_JWS = PyJWS(algorithms=[])  # our own instance: the name registered here changes no other token's handling
_JWS.register_algorithm(ALGORITHM, OKPAlgorithm())
_IDS = uuid.UUID("6f1c2a0e-3b7d-4c8e-9a51-0d2f6b4e8a17")  # the namespace receipt ids are made in


def receipt_key(master: str, version: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(keys.derive(master, keys.RECEIPTS, version))


def thumbprint(public: Ed25519PublicKey) -> str:
    """The key's id: its JWK thumbprint (RFC 7638), what any JOSE library can compute again."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": keys.b64url(public.public_bytes(Encoding.Raw, PublicFormat.Raw))}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return keys.b64url(hashlib.sha256(canonical).digest())


def jwk(public: Ed25519PublicKey) -> dict[str, str]:
    x = keys.b64url(public.public_bytes(Encoding.Raw, PublicFormat.Raw))
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": thumbprint(public), "alg": ALGORITHM, "use": "sig"}


def jwks(master: str, current_version: int) -> dict[str, list[dict[str, str]]]:
    """Every version's key, newest first: receipts are kept by the shoppers, for as long as they like."""
    versions = range(current_version, 0, -1)
    return {"keys": [jwk(receipt_key(master, v).public_key()) for v in versions]}


def receipt_id(entry_id: int) -> str:
    return str(uuid.uuid5(_IDS, str(entry_id)))


def claims(
    *,
    entry_id: int,
    device_id: str,
    at: datetime,
    policy_version: str,
    purposes: Mapping[str, bool],
    collection_method: str,
    controller: str,
    jurisdiction: str,
) -> dict[str, Any]:
    """The receipt of one history entry (ISO/IEC TS 27560's fields, as API.md names them)."""
    return {
        "receipt_id": receipt_id(entry_id),
        "schema": SCHEMA,
        "controller": {"name": controller},
        "jurisdiction": jurisdiction,
        "timestamp": at.isoformat(),
        "pii_principal_id": device_id,
        "policy_version": policy_version,
        "purposes": dict(purposes),
        "collection_method": collection_method,
    }


def sign(key: Ed25519PrivateKey, receipt: Mapping[str, Any]) -> str:
    """The compact JWS of a receipt, its header naming the key (`kid`)."""
    payload = json.dumps(dict(receipt), separators=(",", ":"), ensure_ascii=False).encode()
    return _JWS.encode(payload, key, algorithm=ALGORITHM, headers={"kid": thumbprint(key.public_key())})
