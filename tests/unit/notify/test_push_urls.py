"""Which push endpoints notify may call: the browsers' push services, or hosts the operator listed."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.notify.push.push_urls import PushServices, auth_refusal, p256dh_refusal
from shared.errors import ConfigError

DEFAULT = PushServices()
LISTED = PushServices.from_hosts(["127.0.0.1:8999", "push.example.net", "[::1]:9000"])


@pytest.mark.parametrize(
    "url",
    [
        "https://fcm.googleapis.com/fcm/send/cKx1:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABh",
        "https://web.push.apple.com/QGuQyavXutnMbffSO2_wk",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAABm%2bAbc",
        "https://fcm.googleapis.com:443/fcm/send/abc",
        "HTTPS://FCM.googleapis.com/fcm/send/abc",
    ],
)
def test_the_browsers_push_services_are_allowed(url: str) -> None:
    assert DEFAULT.refusal(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://fcm.googleapis.com/fcm/send/abc",  # not https
        "https://fcm.googleapis.com:8443/fcm/send/abc",  # another port
        "https://fcm.googleapis.com.evil.example/x",  # a suffix is not the host
        "https://evilpush.apple.com/x",  # *.push.apple.com only
        "https://push.apple.com/x",  # the bare suffix is not a subdomain
        "https://127.0.0.1/x",
        "https://10.0.0.7/x",
        "https://[::1]/x",
        "https://localhost/x",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://user@fcm.googleapis.com/fcm/send/abc",  # credentials
        "https://evil.example@fcm.googleapis.com/x",
        "https://evil.example\\@fcm.googleapis.com/x",  # parsers disagree on backslashes
        "https://fcm.googleapis.com/fcm/send/abc#frag",
        "https://fcm.googleapis.com /x",
        "https://fcm.googleapis.com./fcm/send/abc",  # trailing dot
        "ftp://fcm.googleapis.com/x",
        "file:///etc/passwd",
        "https://fcm.googleapis.com:99999/x",
        "//fcm.googleapis.com/x",
        "https://fcm.googleapis.com/" + "a" * 2100,
        "https://fcm.googleapis.com/fcm/send/abc\n",  # a trailing newline: the whole URL is checked
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    assert DEFAULT.refusal(url) is not None


def test_listed_hosts_are_allowed_on_their_port_only() -> None:
    assert LISTED.refusal("https://push.example.net/p/1") is None  # no port listed: 443
    assert LISTED.refusal("https://push.example.net:8443/p/1") is not None
    assert LISTED.refusal("https://127.0.0.1:8999/p/1") is None
    assert LISTED.refusal("https://127.0.0.1:9000/p/1") is not None


def test_plain_http_only_for_listed_loopback_hosts() -> None:
    assert LISTED.refusal("http://127.0.0.1:8999/p/1") is None
    assert LISTED.refusal("http://[::1]:9000/p/1") is None
    assert LISTED.refusal("http://push.example.net:443/p/1") is not None  # listed, but not loopback
    assert DEFAULT.refusal("http://127.0.0.1:8999/p/1") is not None  # loopback, but not listed


def test_a_bad_push_hosts_entry_stops_the_start() -> None:
    for entry in ("host:notaport", "host/path", "user@host:1"):
        with pytest.raises(ConfigError):
            PushServices.from_hosts([entry])


def _point(compressed: bool = False) -> bytes:
    fmt = serialization.PublicFormat.CompressedPoint if compressed else serialization.PublicFormat.UncompressedPoint
    return ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(serialization.Encoding.X962, fmt)


def b64url(raw: bytes, pad: bool = False) -> str:
    text = base64.urlsafe_b64encode(raw).decode()
    return text if pad else text.rstrip("=")


def test_a_p256dh_key_is_an_uncompressed_p256_point_in_base64url() -> None:
    assert p256dh_refusal(b64url(_point())) is None
    assert p256dh_refusal(b64url(_point(), pad=True)) is None
    assert p256dh_refusal(b64url(_point(compressed=True))) is not None
    assert p256dh_refusal(b64url(b"\x04" + b"\x01" * 64)) is not None  # not on the curve
    assert p256dh_refusal(base64.b64encode(_point()).decode().replace("-", "+") + "+/") is not None
    assert p256dh_refusal("not base64!") is not None


def test_an_auth_secret_is_16_bytes_in_base64url() -> None:
    assert auth_refusal(b64url(bytes(16))) is None
    assert auth_refusal(b64url(bytes(15))) is not None
    assert auth_refusal(b64url(bytes(32))) is not None
    assert auth_refusal("a b") is not None
    assert auth_refusal(b64url(bytes(16)) + "\n") is not None
