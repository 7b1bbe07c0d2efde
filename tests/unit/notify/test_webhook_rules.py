"""Webhooks' pure rules: which URLs notify may call, when a failed delivery is retried, what it sends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.notify.webhooks.retry import GIVE_UP_AFTER, backoff_s, body_of, outcome_of
from services.notify.webhooks.secrets import new_secret
from services.notify.webhooks.sender import signed_headers
from services.notify.webhooks.urls import Target, WebhookHosts
from shared.errors import ConfigError
from shared.events import ZoneEntered, ZoneEnteredData, ZoneRef

HOSTS = WebhookHosts.from_hosts(["127.0.0.1:8099", "localhost:8100"])
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_backoff_starts_at_the_setting_doubles_and_stops_at_an_hour() -> None:
    assert [backoff_s(n, 5) for n in range(1, 6)] == [5, 10, 20, 40, 80]
    assert backoff_s(11, 5) == 3600 and backoff_s(500, 5) == 3600


def test_a_failure_is_retried_until_a_day_after_the_event_then_given_up() -> None:
    assert outcome_of(True, 7, NOW, NOW, 5).status == "delivered"
    retry = outcome_of(False, 1, NOW, NOW, 5)
    assert (retry.status, retry.next_attempt_at) == ("pending", NOW + timedelta(seconds=5))
    late = NOW + GIVE_UP_AFTER - timedelta(minutes=30)
    assert outcome_of(False, 20, late, NOW, 5).status == "failed"


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/accueil",
        "https://93.184.216.34:8443/x",
        "http://127.0.0.1:8099/hook",
        "http://localhost:8100/",
        "https://127.0.0.1:8099/x",
    ],
)
def test_public_https_urls_and_listed_loopback_hosts_are_allowed(url: str) -> None:
    assert isinstance(HOSTS.parse(url), Target), HOSTS.parse(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # plain http off the list
        "http://10.0.0.1/x",
        "https://10.0.0.1/x",
        "https://127.0.0.1/x",  # loopback, but not the listed port
        "http://127.0.0.1:8098/x",
        "https://[::1]/x",
        "https://[::1/x",
        "https://[::ffff:10.0.0.1]/x",
        "https://[::ffff:93.184.216.34]/x",  # IPv4-mapped, NAT64, 6to4, Teredo: never, whatever they carry
        "https://[64:ff9b::7f00:1]/x",
        "https://[64:ff9b:1::5db8:d822]/x",
        "https://[2002:7f00:1::1]/x",
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x",
        "https://169.254.169.254/x",
        "https://[fe80::1]/x",
        "https://100.64.0.1/x",
        "https://0.0.0.0/x",
        "https://user:pw@example.com/x",
        "https://example.com:99999/x",
        "https://exa mple.com/x",
        "ftp://example.com/x",
        "https:///x",
        "https://example.com/" + "x" * 2048,
        "https://hooks.example.com/accueil\n",
    ],
)
def test_urls_into_our_network_or_malformed_are_refused_with_a_reason(url: str) -> None:
    assert isinstance(HOSTS.parse(url), str)


def test_resolved_addresses_must_be_public_unless_the_host_is_listed() -> None:
    name = Target("hooks.example.com", 443, listed=False)
    assert HOSTS.address_refusal(name, "93.184.216.34") is None
    assert HOSTS.address_refusal(name, "2606:2800:220:1:248:1893:25c8:1946") is None
    embedding_ipv4 = ("64:ff9b::7f00:1", "2002:7f00:1::1", "::ffff:127.0.0.1", "2001:0:4136:e378:8000:63bf:3fff:fdd2")
    for private in ("127.0.0.1", "10.1.2.3", "::1", "::ffff:192.168.0.1", "fe80::1%eth0", *embedding_ipv4):
        assert HOSTS.address_refusal(name, private) is not None, private
    assert HOSTS.address_refusal(Target("localhost", 8100, listed=True), "127.0.0.1") is None


def test_only_loopback_host_port_entries_may_be_listed() -> None:
    for entry in ("10.0.0.1:80", "example.com:443", "127.0.0.1", "127.0.0.1:x"):
        with pytest.raises(ConfigError):
            WebhookHosts.from_hosts([entry])


def test_the_body_is_type_timestamp_and_the_event_as_the_feed_shows_it() -> None:
    event = ZoneEntered(
        id=42,
        ts=NOW,
        device_id="dev-1",
        store_id="rivoli",
        zone_id="shop",
        data=ZoneEnteredData(kind="store", confidence=0.9, via="gps", zones=[ZoneRef("rivoli", "shop")]),
    )
    doc = json.loads(body_of(event))
    assert doc["type"] == "zone.entered" and doc["timestamp"] == "2026-03-02T12:00:00Z"
    assert doc["data"]["id"] == 42 and doc["data"]["type"] == "zone.entered"
    assert not {"lat", "lng", "accuracy_m"} & (set(doc["data"]) | set(doc["data"]["data"]))


def test_signed_headers_are_what_a_standard_webhooks_verifier_accepts() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(secret) > 6 + 32
    now = datetime.now(UTC)
    body = '{"type":"zone.entered"}'
    headers = signed_headers(secret, 42, body, now)
    assert headers["webhook-id"] == "42" and headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {"type": "zone.entered"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
