"""The APNs channel: pushes to iOS apps over one HTTP/2 connection per APNs environment, with one
provider JWT per environment (apns_protocol.py says what is sent and what each answer means)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from services.notify.push.apns_protocol import (
    STALE_PROVIDER_TOKEN,
    ApnsKey,
    Environment,
    ProviderTokens,
    answer_of,
    device_path,
    headers,
    payload,
    reason_of,
)
from services.notify.push.channel import Answer, Provider, Push, Target
from services.notify.push.egress import PushEgress, origin_of
from services.notify.push.http2 import Http2Origin, NoAnswer, Refused
from services.notify.push.keys import apns_key
from services.notify.settings import NotifySettings
from shared.errors import ConfigError

PRODUCTION_URL = "https://api.push.apple.com"
SANDBOX_URL = "https://api.sandbox.push.apple.com"
_BUNDLE_ID = re.compile(r"^[A-Za-z0-9.-]{1,255}$")


class ApnsChannel:
    provider: Provider = "apns"

    def __init__(
        self,
        key: ApnsKey,
        topic: str,
        egress: PushEgress,
        *,
        url: str = PRODUCTION_URL,
        sandbox_url: str = SANDBOX_URL,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`topic`: the app's bundle id. `clock`: the wall clock (epoch seconds) the JWTs are dated by."""
        if not _BUNDLE_ID.fullmatch(topic):
            raise ConfigError("ACCUEIL_APNS_TOPIC: the app's bundle id (letters, digits, '.' and '-')")
        self._topic = topic
        self._origins: dict[Environment, str] = {
            "production": origin_of(url, "ACCUEIL_APNS_URL"),
            "sandbox": origin_of(sandbox_url, "ACCUEIL_APNS_SANDBOX_URL"),
        }
        # Configured origins: the egress rules' verdict on them does not change while we run.
        self._refusals = {env: egress.refusal(origin) for env, origin in self._origins.items()}
        self._clients: dict[Environment, Http2Origin] = {
            env: egress.client(origin) for env, origin in self._origins.items()
        }
        self._timeout_s = timeout_s
        self.provider_tokens = ProviderTokens(key, clock)

    def origin(self, target: Target) -> str:
        return self._origins[target.environment or "production"]

    def refusal(self, target: Target) -> str | None:
        return self._refusals[target.environment or "production"]

    async def send(self, push: Push) -> Answer:
        environment: Environment = push.target.environment or "production"
        refusal = self._refusals[environment]
        if refusal is not None:
            return Answer("refused", error=refusal)
        path = device_path(push.target.address)
        if path is None:  # what APNs would say of it; never sent, so nothing else enters the path
            return Answer("unregistered", error="BadDeviceToken: not a hexadecimal device token")
        client = self._clients[environment]
        body = payload(push)
        fixed = headers(push, self._topic)
        for first in (True, False):
            jwt = self.provider_tokens.current(environment)
            try:
                response = await client.request(
                    b"POST", path, [(b"authorization", b"bearer " + jwt.encode()), *fixed], body, self._timeout_s
                )
            except Refused as exc:
                return Answer("refused", error=str(exc))
            except NoAnswer as exc:
                return Answer("no_answer", error=str(exc))
            reason, timestamp = reason_of(response.body)
            if first and response.status == 403 and reason == STALE_PROVIDER_TOKEN:
                self.provider_tokens.expired(environment, jwt)
                continue
            break
        retry_after = response.header(b"retry-after")
        return answer_of(response.status, reason, timestamp, retry_after.decode("latin-1") if retry_after else None)

    @property
    def connections_made(self) -> int:
        return sum(c.connections_made for c in self._clients.values())

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()


def apns_channel(config: NotifySettings, egress: PushEgress) -> ApnsChannel | None:
    """The APNs channel ACCUEIL_APNS_* describe, or None if ACCUEIL_APNS_KEY_FILE is unset; a partial or
    unusable configuration stops the start (ConfigError naming the variable)."""
    if not config.apns_key_file:
        for variable, value in (
            ("ACCUEIL_APNS_KEY_ID", config.apns_key_id),
            ("ACCUEIL_APNS_TEAM_ID", config.apns_team_id),
            ("ACCUEIL_APNS_TOPIC", config.apns_topic),
        ):
            if value:
                raise ConfigError(f"{variable} is set but ACCUEIL_APNS_KEY_FILE is not: APNs needs both")
        return None
    if not config.apns_topic:
        raise ConfigError("ACCUEIL_APNS_TOPIC: required with ACCUEIL_APNS_KEY_FILE (the app's bundle id)")
    key = apns_key(config.apns_key_file, config.apns_key_id, config.apns_team_id)
    return ApnsChannel(
        key,
        config.apns_topic,
        egress,
        url=config.apns_url,
        sandbox_url=config.apns_sandbox_url,
        timeout_s=config.push_timeout_s,
    )
