"""One VAPID JWT per push service's origin, reused for hours and renewed before it runs out, on a clock
the test moves."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from services.notify.push import vapid
from services.notify.push.push_urls import b64url_decode
from services.notify.push.vapid_tokens import LIFETIME_S, RENEW_AFTER_S, RESIGN_AFTER_S, VapidToken, VapidTokens

FCM = "https://fcm.googleapis.com"
MOZILLA = "https://updates.push.services.mozilla.com"
T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def keys() -> vapid.VapidKeys:
    private, public = vapid.generate()
    return vapid.VapidKeys(Vapid.from_raw(private.encode()), public, "mailto:push@example.com")


def claims_of(token: VapidToken, keys: vapid.VapidKeys, audience: str) -> dict[str, object]:
    """What the push service reads: the JWT verified with the public key the browser subscribed with."""
    params = dict(p.strip().split("=", 1) for p in token.authorization.removeprefix("vapid ").split(","))
    assert b64url_decode(params["k"]) == b64url_decode(keys.public_key)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(keys.public_key) or b"")
    claims: dict[str, object] = jwt.decode(
        params["t"], public, algorithms=["ES256"], audience=audience, options={"verify_exp": False}
    )
    return claims


def test_a_jwt_names_its_push_service_and_runs_out_within_the_24_hours_allowed(keys: vapid.VapidKeys) -> None:
    token = VapidTokens(keys, Clock()).current(FCM)
    claims = claims_of(token, keys, FCM)
    assert claims == {"aud": FCM, "exp": int(T0) + LIFETIME_S, "sub": "mailto:push@example.com"}
    assert LIFETIME_S < 24 * 3600


def test_one_jwt_serves_every_push_to_an_origin_until_it_is_renewed(keys: vapid.VapidKeys) -> None:
    clock = Clock()
    tokens = VapidTokens(keys, clock)
    first = tokens.current(FCM)
    clock.now = T0 + RENEW_AFTER_S - 1
    assert tokens.current(FCM) is first
    clock.now = T0 + RENEW_AFTER_S
    renewed = tokens.current(FCM)
    assert renewed != first
    assert claims_of(renewed, keys, FCM)["exp"] == int(clock.now) + LIFETIME_S
    assert tokens.current(FCM) is renewed
    # When it is renewed, the old one still has hours left: no push goes out with one about to expire.
    assert LIFETIME_S - RENEW_AFTER_S >= 6 * 3600


def test_a_second_push_service_gets_its_own_jwt_never_the_firsts(keys: vapid.VapidKeys) -> None:
    tokens = VapidTokens(keys, Clock())
    fcm, mozilla = tokens.current(FCM), tokens.current(MOZILLA)
    assert fcm.authorization != mozilla.authorization
    assert claims_of(mozilla, keys, MOZILLA)["aud"] == MOZILLA
    with pytest.raises(jwt.InvalidAudienceError):
        claims_of(fcm, keys, MOZILLA)
    assert tokens.current(FCM) is fcm  # and the first keeps its own


def test_an_old_jwt_refused_is_replaced_once(keys: vapid.VapidKeys) -> None:
    clock = Clock()
    tokens = VapidTokens(keys, clock)
    old = tokens.current(FCM)
    clock.now = T0 + RESIGN_AFTER_S
    again = tokens.after_refusal(FCM, old)
    assert again is not None and again != old
    assert claims_of(again, keys, FCM)["exp"] == int(clock.now) + LIFETIME_S
    assert tokens.current(FCM) is again
    # Another push refused with the old one meanwhile takes the new one, without signing a third.
    assert tokens.after_refusal(FCM, old) is again


def test_a_jwt_refused_just_after_signing_is_not_replaced(keys: vapid.VapidKeys) -> None:
    """A push service refusing a JWT signed moments ago refuses something else (a subscription made
    with another key): signing again would only double the requests it refuses."""
    clock = Clock()
    tokens = VapidTokens(keys, clock)
    fresh = tokens.current(FCM)
    clock.now = T0 + RESIGN_AFTER_S - 1
    assert tokens.after_refusal(FCM, fresh) is None
    assert tokens.current(FCM) is fresh
