"""The FCM stand-in, proved with third-party clients: google-auth's service-account credentials get an
access token from its token endpoint (over requests, HTTP/1.1), then httpx sends over HTTP/2 with it.
Real sockets, real TLS trusting only the test CA, real RS256 signatures. Then the strict checks: what
Google refuses, the stand-in refuses too."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import requests
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import service_account

from tests.support.fcm_service import FCM_SCOPE, LocalFcm, ServiceAccount, make_service_account, registration_token
from tests.support.push_pki import TestPki, make_pki
from tests.support.push_standins import StandInProcess

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def account() -> ServiceAccount:
    return make_service_account()


@pytest.fixture
async def fcm(pki: TestPki, account: ServiceAccount) -> AsyncIterator[LocalFcm]:
    async with LocalFcm(pki, account) as service:
        yield service


@pytest.fixture
async def h2(pki: TestPki) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(http2=True, verify=pki.client_context(("h2", "http/1.1")), trust_env=False) as c:
        yield c


def google_credentials(account: ServiceAccount, fcm: LocalFcm, tmp_path: Path) -> service_account.Credentials:
    key_file = account.write(tmp_path / "service-account.json", fcm.token_uri)
    return service_account.Credentials.from_service_account_file(str(key_file), scopes=[FCM_SCOPE])


async def refresh(credentials: service_account.Credentials, pki: TestPki) -> None:
    """google-auth's own refresh, over requests (blocking: in a thread, so the stand-in in this event
    loop can answer). trust_env off: REQUESTS_CA_BUNDLE would replace `verify`."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(pki.ca_file)
    try:
        await asyncio.to_thread(credentials.refresh, GoogleRequest(session))
    finally:
        session.close()


def message(token: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token": token,
        "notification": {"title": "Back in stock", "body": "The blue jacket, size M"},
        "data": {"message_id": "m-1", "purpose": "back_in_stock", "url": "https://shop.example/p/1"},
        "android": {"priority": "high", "ttl": "3600s", "collapse_key": "m-1"},
    }
    body.update(changes)
    return {"message": {k: v for k, v in body.items() if v is not None}}


async def send(
    h2: httpx.AsyncClient, fcm: LocalFcm, access_token: str | None, body: Any, project: str | None = None
) -> httpx.Response:
    headers = {"authorization": f"Bearer {access_token}"} if access_token else {}
    path = f"/v1/projects/{project or fcm.account.project_id}/messages:send"
    r = await h2.post(fcm.url + path, json=body, headers=headers)
    assert r.http_version == "HTTP/2"
    return r


def fcm_error(r: httpx.Response) -> tuple[int, str, str | None]:
    """(HTTP status, google.rpc status, FcmError errorCode)."""
    error = r.json()["error"]
    assert error["code"] == r.status_code
    codes = [d["errorCode"] for d in error.get("details", []) if d["@type"].endswith("fcm.v1.FcmError")]
    return r.status_code, error["status"], codes[0] if codes else None


def violations(r: httpx.Response) -> list[str]:
    details = r.json()["error"].get("details", [])
    return [v["field"] for d in details if d["@type"].endswith("rpc.BadRequest") for v in d["fieldViolations"]]


async def test_google_auth_then_an_http2_send(
    fcm: LocalFcm, pki: TestPki, account: ServiceAccount, h2: httpx.AsyncClient, tmp_path: Path
) -> None:
    credentials = google_credentials(account, fcm, tmp_path)
    await refresh(credentials, pki)
    assert credentials.valid and credentials.token.startswith("ya29.")
    assert fcm.access_tokens_issued == 1

    token = registration_token()
    r = await send(h2, fcm, credentials.token, message(token))
    assert r.status_code == 200, r.text
    assert r.json()["name"].startswith(f"projects/{account.project_id}/messages/")

    [sent] = await fcm.wait_for(1)
    assert (sent.token, sent.access_token, sent.http_version) == (token, credentials.token, "2")
    assert sent.message["data"]["purpose"] == "back_in_stock" and sent.name == r.json()["name"]


async def test_an_assertion_signed_with_another_key_gets_no_token(
    fcm: LocalFcm, pki: TestPki, account: ServiceAccount, tmp_path: Path
) -> None:
    impostor = make_service_account(account.project_id)
    forged = ServiceAccount(account.project_id, account.client_email, impostor.private_key_pem, account.private_key_id)
    credentials = google_credentials(forged, fcm, tmp_path)
    with pytest.raises(RefreshError, match="invalid_grant"):
        await refresh(credentials, pki)
    assert fcm.access_tokens_issued == 0 and fcm.grants_refused


async def grant(h2: httpx.AsyncClient, fcm: LocalFcm, account: ServiceAccount, **changes: Any) -> httpx.Response:
    now = int(time.time())
    claims = {
        "iss": account.client_email,
        "scope": FCM_SCOPE,
        "aud": "https://oauth2.googleapis.com/token",
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(changes)
    assertion = jwt.encode(
        {k: v for k, v in claims.items() if v is not None},
        account.private_key_pem,
        algorithm="RS256",
        headers={"kid": account.private_key_id},
    )
    form = {"grant_type": JWT_BEARER, "assertion": assertion}
    return await h2.post(fcm.token_uri, data=form)


async def test_the_token_endpoint_checks_the_assertion(
    fcm: LocalFcm, account: ServiceAccount, h2: httpx.AsyncClient
) -> None:
    async def refused(**changes: Any) -> str:
        r = await grant(h2, fcm, account, **changes)
        assert r.status_code == 400, r.text
        return str(r.json()["error"])

    assert (await grant(h2, fcm, account)).json()["token_type"] == "Bearer"
    assert (await grant(h2, fcm, account, aud=fcm.token_uri)).status_code == 200  # the file's token_uri
    assert await refused(aud="https://example.com/token") == "invalid_grant"
    assert await refused(iss=f"someone-else@{account.project_id}.iam.gserviceaccount.com") == "invalid_grant"
    now = int(time.time())
    assert await refused(iat=now, exp=now + 3601) == "invalid_grant"  # longer than an hour
    assert await refused(iat=now - 7200, exp=now - 3600) == "invalid_grant"  # expired
    assert await refused(iat=now + 600, exp=now + 1200) == "invalid_grant"  # from the future
    assert await refused(scope=None) == "invalid_scope"
    assert await refused(scope="https://www.googleapis.com/auth/cloud-platform.read-only") == "invalid_scope"
    r = await h2.post(fcm.token_uri, data={"grant_type": "client_credentials", "assertion": "x"})
    assert (r.status_code, r.json()["error"]) == (400, "unsupported_grant_type")
    assert fcm.access_tokens_issued == 2


async def access_token(h2: httpx.AsyncClient, fcm: LocalFcm) -> str:
    r = await grant(h2, fcm, fcm.account)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def test_sends_need_a_live_access_token(fcm: LocalFcm, h2: httpx.AsyncClient) -> None:
    token = registration_token()
    assert fcm_error(await send(h2, fcm, None, message(token))) == (401, "UNAUTHENTICATED", None)
    assert fcm_error(await send(h2, fcm, "ya29.made-up", message(token))) == (401, "UNAUTHENTICATED", None)

    live = await access_token(h2, fcm)
    assert (await send(h2, fcm, live, message(token))).status_code == 200
    fcm.revoke_access_tokens()
    r = await send(h2, fcm, live, message(token))
    assert fcm_error(r) == (401, "UNAUTHENTICATED", None) and "invalid_token" in r.headers["www-authenticate"]
    fresh = await access_token(h2, fcm)
    assert (await send(h2, fcm, fresh, message(token))).status_code == 200

    fcm.access_token_lifetime_s = 0
    stale = await access_token(h2, fcm)
    await asyncio.sleep(0.01)
    assert fcm_error(await send(h2, fcm, stale, message(token))) == (401, "UNAUTHENTICATED", None)

    r = await send(h2, fcm, fresh, message(token), project="someone-elses-project")
    assert fcm_error(r) == (403, "PERMISSION_DENIED", None)
    assert [s.status for s in fcm.sends] == [401, 401, 200, 401, 200, 401, 403]


async def test_the_message_is_checked(fcm: LocalFcm, h2: httpx.AsyncClient) -> None:
    live = await access_token(h2, fcm)
    token = registration_token()

    async def refused(body: Any) -> list[str]:
        r = await send(h2, fcm, live, body)
        assert fcm_error(r) == (400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"), r.text
        return violations(r)

    assert await refused(message(token, data={"message_id": "m-1", "count": 3})) == ["message.data[1].value"]
    assert await refused(message(token, data={"from": "x"})) == ["message.data[0].key"]
    assert await refused(message(token, notification={"title": 7})) == ["message.notification.title"]
    assert await refused(message(token, notification={"title": "t", "subtitle": "s"})) == [
        "message.notification.subtitle"
    ]
    assert await refused(message(token, priority="high")) == ["message.priority"]
    assert await refused(message(token, android={"priority": "urgent"})) == ["message.android.priority"]
    assert await refused(message(token, android={"ttl": 3600})) == ["message.android.ttl"]
    assert await refused(message(token, android={"ttl": "1h"})) == ["message.android.ttl"]
    assert await refused(message(token, android={"ttl": "3000000s"})) == ["message.android.ttl"]
    assert await refused(message(None)) == ["message.token"]
    assert await refused(message("not a token!")) == ["message.token"]
    assert await refused(message(token, data={"message_id": "m-1", "blob": "x" * 4096})) == ["message"]
    assert await refused({"message": message(token)["message"], "extra": 1}) == ["extra"]
    assert await refused({"msg": {}}) == ["message"]

    for android in ({"priority": "normal", "ttl": "0.5s"}, {"priority": "HIGH", "ttl": "86400s", "collapse_key": "k"}):
        assert (await send(h2, fcm, live, message(token, android=android))).status_code == 200
    assert len(fcm.delivered) == 2 and len(fcm.sends) == 16


async def test_scripted_answers_in_google_shape(fcm: LocalFcm, h2: httpx.AsyncClient) -> None:
    live = await access_token(h2, fcm)
    token, gone, bad = registration_token(), registration_token(), registration_token()
    fcm.fail(token, (429, "QUOTA_EXCEEDED", 7), (503, "UNAVAILABLE"), (500, "INTERNAL"))
    fcm.unregister(gone)
    fcm.invalid_token(bad)

    r = await send(h2, fcm, live, message(token))
    assert fcm_error(r) == (429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED") and r.headers["retry-after"] == "7"
    assert fcm_error(await send(h2, fcm, live, message(token))) == (503, "UNAVAILABLE", "UNAVAILABLE")
    assert fcm_error(await send(h2, fcm, live, message(token))) == (500, "INTERNAL", "INTERNAL")
    assert (await send(h2, fcm, live, message(token))).status_code == 200

    assert fcm_error(await send(h2, fcm, live, message(gone))) == (404, "NOT_FOUND", "UNREGISTERED")
    r = await send(h2, fcm, live, message(bad))
    assert fcm_error(r) == (400, "INVALID_ARGUMENT", "INVALID_ARGUMENT") and violations(r) == ["message.token"]
    assert [(s.status, s.error_code) for s in fcm.sends] == [
        (429, "QUOTA_EXCEEDED"),
        (503, "UNAVAILABLE"),
        (500, "INTERNAL"),
        (200, None),
        (404, "UNREGISTERED"),
        (400, "INVALID_ARGUMENT"),
    ]


async def test_a_message_delivered_twice_is_a_duplicate(fcm: LocalFcm, h2: httpx.AsyncClient) -> None:
    live = await access_token(h2, fcm)
    token = registration_token()
    fcm.fail(token, (503, "UNAVAILABLE"))
    for _ in range(3):
        await send(h2, fcm, live, message(token))  # 503, then delivered, then delivered again
    await send(h2, fcm, live, message(registration_token()))  # the same message to another device
    assert (len(fcm.delivered), fcm.duplicates) == (3, 1)
    assert fcm.connections == 1


async def test_the_stand_in_in_a_process_of_its_own(tmp_path: Path) -> None:
    """What the benchmarks run: the child makes the account and the PKI, the parent reads them."""
    async with StandInProcess("fcm", tmp_path) as child:
        credentials = service_account.Credentials.from_service_account_file(
            str(child.service_account_file), scopes=[FCM_SCOPE]
        )
        session = requests.Session()
        session.trust_env = False
        session.verify = str(child.ca_file)
        await asyncio.to_thread(credentials.refresh, GoogleRequest(session))
        verify = ssl.create_default_context(cafile=str(child.ca_file))
        async with httpx.AsyncClient(http2=True, verify=verify, trust_env=False) as client:
            path = f"/v1/projects/{child.service_account.project_id}/messages:send"
            headers = {"authorization": f"Bearer {credentials.token}"}
            token = registration_token()
            for _ in range(2):
                r = await client.post(child.url + path, json=message(token), headers=headers)
                assert r.status_code == 200, r.text
        assert await child.stats() == {"received": 2, "delivered": 2, "duplicates": 1}
    assert child.proc is not None and child.proc.returncode == 0
