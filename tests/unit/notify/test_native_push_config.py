"""APNs and FCM from the configuration: off when their key file is unset, on when it is complete and
usable, and a start-up error naming the variable, never quoting the secret, in between."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from services.notify.push.apns import ApnsChannel, apns_channel
from services.notify.push.egress import PushEgress, origin_of, tls_context
from services.notify.push.fcm import FcmChannel, fcm_channel
from services.notify.push.push_urls import PushServices
from services.notify.settings import NotifySettings
from shared.errors import ConfigError
from shared.settings import load_env

SECRET_MARK = "c2VjcmV0LW1hcmtlcg"  # base64 that would show if an error quoted the file


def pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def p8(tmp_path: Path) -> Path:
    path = tmp_path / "AuthKey_ABC123DEFG.p8"
    path.write_text(pem(ec.generate_private_key(ec.SECP256R1())))
    return path


def account_doc(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "type": "service_account",
        "project_id": "shop-app",
        "private_key_id": "k1",
        "private_key": pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "client_email": "push@shop-app.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    doc.update(changes)
    return doc


def settings(**values: str) -> NotifySettings:
    return msgspec.convert(values, NotifySettings)


@pytest.fixture
async def egress() -> PushEgress:
    return PushEgress()


@pytest.fixture
def fail_quietly() -> Iterator[list[str]]:
    """Collects the ConfigError messages of a test, to check none quotes a secret."""
    messages: list[str] = []
    yield messages
    assert all(SECRET_MARK not in m and "PRIVATE KEY" not in m for m in messages)


def refused(factory: object, config: NotifySettings, egress: PushEgress, messages: list[str]) -> str:
    with pytest.raises(ConfigError) as caught:
        factory(config, egress)  # type: ignore[operator]
    messages.append(str(caught.value))
    return str(caught.value)


async def test_without_key_files_there_is_no_apns_and_no_fcm(egress: PushEgress) -> None:
    assert apns_channel(NotifySettings(), egress) is None
    assert fcm_channel(NotifySettings(), egress) is None


async def test_a_complete_apns_configuration_makes_the_channel(p8: Path, egress: PushEgress) -> None:
    config = settings(
        apns_key_file=str(p8), apns_key_id="ABC123DEFG", apns_team_id="TEAM123456", apns_topic="com.example.shop"
    )
    channel = apns_channel(config, egress)
    assert isinstance(channel, ApnsChannel)
    await channel.close()


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"apns_key_id": "ABC123DEFG"}, "ACCUEIL_APNS_KEY_ID is set but ACCUEIL_APNS_KEY_FILE is not"),
        ({"apns_topic": "com.example.shop"}, "ACCUEIL_APNS_TOPIC is set but ACCUEIL_APNS_KEY_FILE is not"),
        ({"apns_key_file": "P8", "apns_team_id": "T", "apns_topic": "a.b"}, "ACCUEIL_APNS_KEY_ID: required"),
        ({"apns_key_file": "P8", "apns_key_id": "K", "apns_topic": "a.b"}, "ACCUEIL_APNS_TEAM_ID: required"),
        ({"apns_key_file": "P8", "apns_key_id": "K", "apns_team_id": "T"}, "ACCUEIL_APNS_TOPIC: required"),
        ({"apns_key_file": "P8", "apns_key_id": "K 1", "apns_team_id": "T", "apns_topic": "a"}, "APNS_KEY_ID"),
        ({"apns_key_file": "P8", "apns_key_id": "K", "apns_team_id": "T", "apns_topic": "a b"}, "ACCUEIL_APNS_TOPIC"),
    ],
)
async def test_a_half_configured_apns_stops_the_start_naming_the_variable(
    values: dict[str, str], variable: str, p8: Path, egress: PushEgress, fail_quietly: list[str]
) -> None:
    values = {k: str(p8) if v == "P8" else v for k, v in values.items()}
    assert variable in refused(apns_channel, settings(**values), egress, fail_quietly)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "ACCUEIL_APNS_KEY_FILE: cannot read"),
        (f"-----BEGIN PRIVATE KEY-----\n{SECRET_MARK}\n-----END PRIVATE KEY-----\n", "not an unencrypted PEM"),
        (SECRET_MARK, "not an unencrypted PEM"),
        (pem(ec.generate_private_key(ec.SECP384R1())), "not a P-256"),
        (pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)), "not a P-256"),
    ],
)
async def test_an_unusable_p8_stops_the_start_without_quoting_it(
    content: str | None, says: str, tmp_path: Path, egress: PushEgress, fail_quietly: list[str]
) -> None:
    path = tmp_path / "key.p8"
    if content is not None:
        path.write_text(content)
    config = settings(apns_key_file=str(path), apns_key_id="K", apns_team_id="T", apns_topic="com.example.shop")
    assert says in refused(apns_channel, config, egress, fail_quietly)


async def test_a_complete_service_account_makes_the_fcm_channel(tmp_path: Path, egress: PushEgress) -> None:
    path = tmp_path / "account.json"
    path.write_text(json.dumps(account_doc()))
    channel = fcm_channel(settings(fcm_service_account_file=str(path)), egress)
    assert isinstance(channel, FcmChannel)
    await channel.close()


@pytest.mark.parametrize(
    ("doc", "says"),
    [
        (None, "cannot read"),
        (f'{{"private_key": "{SECRET_MARK}"', "not JSON"),
        ("[]", "not a service account"),
        (account_doc(type="authorized_user"), "type is not service_account"),
        (account_doc(client_email=None), "no client_email"),
        (account_doc(token_uri=""), "no token_uri"),
        (account_doc(project_id="a/b"), "project_id"),
        (account_doc(private_key=f"-----BEGIN PRIVATE KEY-----\n{SECRET_MARK}\n-----END PRIVATE KEY-----\n"), "PEM"),
        (account_doc(private_key=pem(ec.generate_private_key(ec.SECP256R1()))), "not an RSA key"),
        (account_doc(token_uri="http://oauth2.googleapis.com/token"), "token_uri): must be an https URL"),
    ],
)
async def test_an_unusable_service_account_stops_the_start_without_quoting_it(
    doc: object, says: str, tmp_path: Path, egress: PushEgress, fail_quietly: list[str]
) -> None:
    path = tmp_path / "account.json"
    if doc is not None:
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    message = refused(fcm_channel, settings(fcm_service_account_file=str(path)), egress, fail_quietly)
    assert message.startswith("ACCUEIL_FCM_SERVICE_ACCOUNT_FILE") and says in message


def test_the_push_service_urls_must_be_https_origins() -> None:
    for variable in ("ACCUEIL_APNS_URL", "ACCUEIL_APNS_SANDBOX_URL", "ACCUEIL_FCM_URL"):
        for bad in ("http://api.push.apple.com", "https://user@host", "https://host/path", "ftp://x"):
            with pytest.raises(ConfigError, match=variable):
                load_env(NotifySettings, {variable: bad})
    loaded = load_env(NotifySettings, {"ACCUEIL_APNS_URL": "https://apns.gateway.example:8443"})
    assert loaded.apns_url == "https://apns.gateway.example:8443"


def test_an_origin_is_scheme_host_and_port_only_when_not_443() -> None:
    assert origin_of("https://API.push.apple.com/", "V") == "https://api.push.apple.com"
    assert origin_of("https://api.push.apple.com:443", "V") == "https://api.push.apple.com"
    assert origin_of("https://127.0.0.1:8443/token", "V") == "https://127.0.0.1:8443"
    assert origin_of("https://[::1]:8443", "V") == "https://[::1]:8443"
    with pytest.raises(ConfigError, match="^V: "):
        origin_of("https://host:99999", "V")


def test_an_unreadable_ca_file_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate")
    for path in (tmp_path / "ca.pem", tmp_path / "absent.pem"):
        with pytest.raises(ConfigError, match="^ACCUEIL_PUSH_CA_FILE"):
            tls_context(str(path))


async def test_egress_refuses_plain_http_and_private_addresses_unless_listed() -> None:
    egress = PushEgress(PushServices.from_hosts(["127.0.0.1:8443", "apns.local"]))
    assert egress.refusal("https://api.push.apple.com") is None  # a name: checked when connecting
    assert egress.refusal("https://127.0.0.1:8443") is None
    assert egress.refusal("https://apns.local") is None
    assert egress.refusal("https://127.0.0.1:9443") is not None
    assert egress.refusal("https://10.0.0.7") is not None
    assert egress.refusal("https://[::1]:8443") is not None
    assert egress.refusal("https://17.188.180.1") is None
    assert egress.refusal("http://127.0.0.1:8443") is not None
