"""The VAPID JWTs (RFC 8292) Web Push requests carry: one per push service's origin, signed once and
reused for hours rather than signed for every message. Pure: the clock is given.

A JWT names one push service (`aud`, its origin) and says until when it is good (`exp`, at most 24 h
ahead: Apple's and Mozilla's services refuse more). An ES256 signature costs about 40 % of what
encrypting a message does: signed per message, it was a sender's largest avoidable cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from services.notify.push.vapid import VapidKeys

LIFETIME_S = 23 * 3600
"""exp, counted from signing: an hour short of the 24 h allowed, for a push service whose clock is ahead."""
RENEW_AFTER_S = 12 * 3600
"""A JWT is replaced by a new one at half its life: the one in use always has hours left."""
RESIGN_AFTER_S = 60
"""A refused JWT at least this old is replaced and the push tried once more with the new one; a younger
one was refused for something a new signature would not change (a subscription made with another key)."""


@dataclass(frozen=True)
class VapidToken:
    authorization: str
    """The whole `Authorization` header: `vapid t=<jwt>, k=<public key>`."""
    signed_at: float
    """Epoch seconds."""


class VapidTokens:
    """The JWT to send to each push service's origin, renewed before it runs out. One per process."""

    def __init__(self, keys: VapidKeys, clock: Callable[[], float] = time.time) -> None:
        self._keys = keys
        self._clock = clock
        self._by_origin: dict[str, VapidToken] = {}

    def current(self, origin: str) -> VapidToken:
        """The JWT for `origin` (scheme://host[:port], the `aud` its push service checks)."""
        now = self._clock()
        token = self._by_origin.get(origin)
        if token is None or now - token.signed_at >= RENEW_AFTER_S:
            token = self._by_origin[origin] = self._sign(origin, now)
        return token

    def after_refusal(self, origin: str, refused: VapidToken) -> VapidToken | None:
        """The JWT to try once more with after `refused` got 401 or 403 from `origin`, or None if
        another would fare no better. A newer one already in use (another push saw the refusal first)
        is that one."""
        now = self._clock()
        token = self._by_origin.get(origin)
        if token is not None and token != refused:
            return token
        if now - refused.signed_at < RESIGN_AFTER_S:
            return None
        token = self._by_origin[origin] = self._sign(origin, now)
        return token

    def _sign(self, origin: str, now: float) -> VapidToken:
        claims = {"aud": origin, "exp": int(now) + LIFETIME_S, "sub": self._keys.subject}
        return VapidToken(self._keys.signer.sign(claims)["Authorization"], now)
