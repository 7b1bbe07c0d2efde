"""HTTP Basic for the OwnTracks app, which cannot send a bearer token: user = device id, password =
the device's own token, checked as BearerAuth checks a bearer token."""

from __future__ import annotations

import base64
import binascii

from shared.auth import Principal
from shared.context import Context
from shared.errors import Unauthorized

CHALLENGE = {"WWW-Authenticate": 'Basic realm="accueil"'}


def refuse(detail: str) -> Unauthorized:
    return Unauthorized(detail, headers=CHALLENGE)


def credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise refuse("HTTP Basic credentials needed: the device id and its token")
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise refuse("malformed HTTP Basic credentials") from exc
    if not sep or not user or not password:
        raise refuse("HTTP Basic credentials needed: the device id and its token")
    return user, password


def device_of_basic(ctx: Context, header: str) -> str:
    """The device the credentials prove, or a 401 that asks for Basic credentials again."""
    device_id, token = credentials(header)
    try:
        principal: Principal = ctx.signer.verify(token)
    except Unauthorized as exc:
        raise refuse(exc.detail) from exc
    if principal.role != "device" or principal.subject != device_id:
        raise refuse("the token is not this device's")
    if ctx.revocations.is_revoked(principal):
        raise refuse("token revoked")
    return device_id
