"""The APNs signing key and the FCM service account, read from their files at start-up.

A file that is missing, unreadable or not what it should be stops the start with a ConfigError naming
the variable, never quoting the file: it holds a secret.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from services.notify.push.apns_protocol import ApnsKey
from services.notify.push.egress import origin_of
from services.notify.push.fcm_protocol import ServiceAccount
from shared.errors import ConfigError

_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _read(path: str, variable: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {path} ({exc.strerror or type(exc).__name__})") from None


def _private_key(pem: bytes, variable: str) -> object:
    try:
        return load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):  # their messages say nothing of the key, but need not be shown
        raise ConfigError(f"{variable}: not an unencrypted PEM private key") from None


def apns_key(key_file: str, key_id: str, team_id: str) -> ApnsKey:
    """The `.p8` key (a PKCS#8 P-256 key, as Apple hands it out) and the ids that go with it."""
    for variable, value in (("ACCUEIL_APNS_KEY_ID", key_id), ("ACCUEIL_APNS_TEAM_ID", team_id)):
        if not value:
            raise ConfigError(f"{variable}: required with ACCUEIL_APNS_KEY_FILE")
        if not _ID.fullmatch(value):
            raise ConfigError(f"{variable}: letters, digits, '.', '_' or '-' only")
    key = _private_key(_read(key_file, "ACCUEIL_APNS_KEY_FILE"), "ACCUEIL_APNS_KEY_FILE")
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError("ACCUEIL_APNS_KEY_FILE: not a P-256 (ES256) key, as Apple's .p8 keys are")
    return ApnsKey(key, key_id, team_id)


def service_account(path: str) -> ServiceAccount:
    """A service account's JSON key, as the Firebase console hands it out."""
    variable = "ACCUEIL_FCM_SERVICE_ACCOUNT_FILE"
    try:
        doc = json.loads(_read(path, variable))
    except ValueError:
        raise ConfigError(f"{variable}: not JSON") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{variable}: not a service account's JSON key")
    if doc.get("type", "service_account") != "service_account":
        raise ConfigError(f"{variable}: its type is not service_account")
    for field in ("project_id", "client_email", "private_key", "token_uri"):
        if not isinstance(doc.get(field), str) or not doc[field]:
            raise ConfigError(f"{variable}: no {field}")
    if not _ID.fullmatch(doc["project_id"]):
        raise ConfigError(f"{variable}: project_id has characters a project id cannot have")
    key = _private_key(doc["private_key"].encode(), f"{variable} (private_key)")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{variable}: private_key is not an RSA key")
    origin_of(doc["token_uri"], f"{variable} (token_uri)")
    key_id = doc.get("private_key_id")
    return ServiceAccount(
        project_id=doc["project_id"],
        client_email=doc["client_email"],
        private_key=key,
        private_key_id=key_id if isinstance(key_id, str) and key_id else None,
        token_uri=doc["token_uri"],
    )
