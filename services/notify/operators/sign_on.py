"""The console's client at the retailer's OpenID Connect provider (Authlib): discovery, the
authorization code with PKCE (S256), and the ID token checked — its signature against the provider's
published keys, then `iss`, `aud`, `exp`, `iat`, `nonce` and `email_verified`.

Authlib writes the protocol's messages (the authorization request, the token request and the client's
authentication, the PKCE challenge) and checks the ID token's claims; they travel on an httpx client of
notify's own (Authlib's httpx integration is being moved to another HTTP library). The discovery
document and the keys are cached for an hour (the keys fetched again at once when a token
names a key not yet seen: the provider rotated). Calls go out on a client of their own, never the one
for accueil's services: the provider is the retailer's, not ours.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from services.notify.operators.round_trip import ROUND_TRIP_S, RoundTrip
from services.notify.settings import NotifySettings

SCOPES = "openid email"
_METADATA_TTL_S = 3600.0
_LEEWAY_S = 60


class SignInRefused(Exception):
    """The provider's answer proves nobody (a bad code, a token that fails a check): sign in again."""


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered an error: try again later."""


class SignOn:
    def __init__(self, config: NotifySettings) -> None:
        self.enabled = config.single_sign_on
        self._issuer = config.oidc_issuer.rstrip("/")
        self._client_id = config.oidc_client_id
        self._client_secret = config.oidc_client_secret
        self.public_url = config.public_url.rstrip("/")
        self.redirect_uri = f"{self.public_url}/console/callback"
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, Any] | None = None
        self._fetched_at = 0.0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(f"the sign-in provider could not answer: {exc!r}") from exc
        return document

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document; its `issuer` must be the one configured (OpenID Connect
        Discovery, 4.3): a document that names another issuer is not this provider's."""
        if self._metadata is None or time.monotonic() - self._fetched_at > _METADATA_TTL_S:
            metadata = await self._get(f"{self._issuer}/.well-known/openid-configuration")
            if str(metadata.get("issuer", "")).rstrip("/") != self._issuer:
                raise ProviderUnavailable("the provider's discovery document names another issuer")
            self._metadata, self._keys, self._fetched_at = metadata, None, time.monotonic()
        return self._metadata

    async def _key_set(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            self._keys = await self._get(str((await self.metadata())["jwks_uri"]))
        return KeySet.import_key_set(self._keys)  # type: ignore[arg-type]

    async def begin(self) -> tuple[str, RoundTrip]:
        """Where to send the browser, and what must survive the trip (state, PKCE verifier, nonce)."""
        metadata = await self.metadata()
        trip = RoundTrip(
            state=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),
            nonce=secrets.token_urlsafe(24),
            expires=time.time() + ROUND_TRIP_S,
        )
        url = prepare_grant_uri(
            metadata["authorization_endpoint"],
            self._client_id,
            "code",
            redirect_uri=self.redirect_uri,
            scope=SCOPES,
            state=trip.state,
            nonce=trip.nonce,
            code_challenge=create_s256_code_challenge(trip.verifier),
            code_challenge_method="S256",
        )
        return url, trip

    async def verified_email(self, code: str, trip: RoundTrip) -> str:
        """The code traded (with the client's secret and the PKCE verifier) for an ID token, whose
        checked claims must include a verified email: that email, in lower case."""
        metadata = await self.metadata()
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=self.redirect_uri, code_verifier=trip.verifier
        )
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        url, headers, body = ClientAuth(self._client_id, self._client_secret, method).prepare(
            "POST", metadata["token_endpoint"], headers, body
        )
        try:
            response = await self._http.post(url, content=body, headers=headers)
            token = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(f"the sign-in provider could not answer: {exc!r}") from exc
        if response.status_code in (400, 401):  # RFC 6749, 5.2: the code, the verifier or the client refused
            raise SignInRefused(f"the provider refused the code: {token.get('error', response.status_code)}")
        if not response.is_success or not isinstance(token, dict):
            raise ProviderUnavailable(f"the sign-in provider answered {response.status_code}")
        if "id_token" not in token:
            raise SignInRefused("the provider gave no ID token")
        claims = await self._checked_claims(str(token["id_token"]), trip.nonce, token.get("access_token"))
        email = claims.get("email")
        if claims.get("email_verified") is not True:
            raise SignInRefused("the provider has not verified this email address")
        if not isinstance(email, str) or "@" not in email:
            raise SignInRefused("the provider gave no email address")
        return email.lower()

    async def _checked_claims(self, id_token: str, nonce: str, access_token: object) -> dict[str, Any]:
        metadata = await self.metadata()
        registry = JWSRegistry(
            algorithms=list(metadata.get("id_token_signing_alg_values_supported") or ["RS256"]),
            strict_check_header=False,
        )
        try:
            try:
                decoded = jwt.decode(id_token, await self._key_set(), registry=registry)
            except InvalidKeyIdError:  # a key rotated in since the keys were fetched
                decoded = jwt.decode(id_token, await self._key_set(refresh=True), registry=registry)
            params = {"nonce": nonce, "client_id": self._client_id}
            if isinstance(access_token, str):
                params["access_token"] = access_token
            claims = CodeIDToken(decoded.claims, decoded.header, {"iss": {"values": [metadata["issuer"]]}}, params)
            claims.validate(leeway=_LEEWAY_S)
        except (JoseError, ValueError) as exc:
            raise SignInRefused(f"the ID token was refused: {exc}") from exc
        return dict(claims)
