"""The FCM channel: pushes to Android apps by FCM HTTP v1, one `messages:send` per message, many in
flight over one HTTP/2 connection, with the service account's access token (fcm_protocol.py says
what is sent and what each answer means).

The token is signed and fetched here with pyjwt over our own HTTP/2 client rather than by google-auth:
google-auth's only asynchronous service-account credentials are internal modules (marked
experimental) on requests and urllib3, and its public ones refresh synchronously through requests,
which would need a thread per refresh, would bypass the egress rules our resolver enforces, and
would trade the trust store for REQUESTS_CA_BUNDLE unless told not to. The grant itself is one RS256
JWT and one form POST.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from services.notify.push.channel import Answer, Provider, Push, Target
from services.notify.push.egress import PushEgress, origin_of
from services.notify.push.fcm_protocol import (
    AccessToken,
    ServiceAccount,
    TokenRefused,
    access_token_of,
    answer_of,
    assertion,
    message,
    token_request,
)
from services.notify.push.http2 import Http2Origin, NoAnswer, Refused
from services.notify.push.keys import service_account
from services.notify.settings import NotifySettings

FCM_URL = "https://fcm.googleapis.com"
FORM = [(b"content-type", b"application/x-www-form-urlencoded")]
JSON = (b"content-type", b"application/json")


class AccessTokens:
    """The service account's access token: fetched when first needed and again shortly before it
    expires, or when FCM refuses it; one fetch at a time, whatever the number of sends waiting."""

    def __init__(
        self, account: ServiceAccount, client: Http2Origin, timeout_s: float, clock: Callable[[], float]
    ) -> None:
        parts = urlsplit(account.token_uri)
        self._path = parts.path + (f"?{parts.query}" if parts.query else "") or "/"
        self._account = account
        self._client = client
        self._timeout_s = timeout_s
        self._clock = clock
        self._token: AccessToken | None = None
        self._lifetime = 0.0
        self._fetching: asyncio.Task[AccessToken] | None = None
        self.fetched = 0

    async def current(self) -> str:
        token = self._token
        if token is not None and token.fresh_at(self._clock(), self._lifetime):
            return token.token
        if self._fetching is None:
            self._fetching = asyncio.create_task(self._fetch())
            self._fetching.add_done_callback(self._fetched)
        return (await asyncio.shield(self._fetching)).token

    def refused(self, stale: str) -> None:
        """FCM answered 401 to `stale`: the next `current` fetches a new one, unless another send did."""
        if self._token is not None and self._token.token == stale:
            self._token = None

    async def _fetch(self) -> AccessToken:
        now = self._clock()
        body = token_request(assertion(self._account, now))
        response = await self._client.request(b"POST", self._path, FORM, body, self._timeout_s)
        token, self._lifetime = access_token_of(response.status, response.body, now)
        self._token = token
        self.fetched += 1
        return token

    def _fetched(self, task: asyncio.Task[AccessToken]) -> None:
        self._fetching = None
        if not task.cancelled():
            task.exception()  # a failure reaches the sends waiting for it; it must not be reported twice


class FcmChannel:
    provider: Provider = "fcm"

    def __init__(
        self,
        account: ServiceAccount,
        egress: PushEgress,
        *,
        url: str = FCM_URL,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock`: the wall clock (epoch seconds) tokens and TTLs are reckoned by."""
        self._origin = origin_of(url, "ACCUEIL_FCM_URL")
        self._refusal = egress.refusal(self._origin)
        self._client = egress.client(self._origin)
        token_origin = origin_of(account.token_uri, "ACCUEIL_FCM_SERVICE_ACCOUNT_FILE (token_uri)")
        self._token_refusal = egress.refusal(token_origin)
        # The stand-in of a test, or a gateway, may serve both on one origin: one connection then.
        self._token_client = self._client if token_origin == self._origin else egress.client(token_origin)
        self._path = f"/v1/projects/{account.project_id}/messages:send"
        self._timeout_s = timeout_s
        self._clock = clock
        self.access_tokens = AccessTokens(account, self._token_client, timeout_s, clock)

    def origin(self, target: Target) -> str:
        return self._origin

    def refusal(self, target: Target) -> str | None:
        return self._refusal or self._token_refusal

    async def send(self, push: Push) -> Answer:
        refusal = self._refusal or self._token_refusal
        if refusal is not None:
            return Answer("refused", error=refusal)
        body = message(push, datetime.fromtimestamp(self._clock(), UTC))
        for first in (True, False):
            try:
                token = await self.access_tokens.current()
            except Refused as exc:
                return Answer("refused", error=str(exc))
            except (NoAnswer, TokenRefused) as exc:  # FCM was not asked: nothing was sent
                return Answer("unavailable", error=f"access token: {exc}")
            authorization = (b"authorization", b"Bearer " + token.encode())
            try:
                response = await self._client.request(b"POST", self._path, [authorization, JSON], body, self._timeout_s)
            except Refused as exc:
                return Answer("refused", error=str(exc))
            except NoAnswer as exc:
                return Answer("no_answer", error=str(exc))
            if first and response.status == 401:
                self.access_tokens.refused(token)
                continue
            break
        retry_after = response.header(b"retry-after")
        return answer_of(response.status, response.body, retry_after.decode("latin-1") if retry_after else None)

    @property
    def connections_made(self) -> int:
        made = self._client.connections_made
        return made if self._token_client is self._client else made + self._token_client.connections_made

    async def close(self) -> None:
        await self._client.close()
        if self._token_client is not self._client:
            await self._token_client.close()


def fcm_channel(config: NotifySettings, egress: PushEgress) -> FcmChannel | None:
    """The FCM channel ACCUEIL_FCM_* describe, or None if ACCUEIL_FCM_SERVICE_ACCOUNT_FILE is unset; an
    unusable service account stops the start (ConfigError naming the variable)."""
    if not config.fcm_service_account_file:
        return None
    account = service_account(config.fcm_service_account_file)
    return FcmChannel(account, egress, url=config.fcm_url, timeout_s=config.push_timeout_s)
