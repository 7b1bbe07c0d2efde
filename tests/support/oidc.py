"""The retailer's OpenID Connect provider, a real one: oidc-provider-mock (Authlib's provider, with
discovery, JWKS, the authorization code with PKCE) on a loopback port in a thread of the test's
process, and notify configured to sign operators in with it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
from oidc_provider_mock import run_server_in_thread

from tests.conftest import TESTING_NOTIFY

CLIENT_ID = "accueil-console"
CLIENT_SECRET = "console-secret-0123456789"


@dataclass(frozen=True)
class Provider:
    issuer: str

    async def user(self, sub: str, **claims: Any) -> None:
        """The provider's user `sub` and the claims its ID tokens carry (its own `PUT /users/{sub}`)."""
        async with httpx.AsyncClient() as client:
            r = await client.put(f"{self.issuer}/users/{sub}", json=claims)
        assert r.status_code == 204, r.text

    def settings(self) -> Callable[[dict[str, int]], dict[str, Any]]:
        """The services' own settings (the `configs` fixture): notify signs operators in here, its
        public address the one the tests reach it on."""

        def configs(ports: dict[str, int]) -> dict[str, Any]:
            notify = msgspec.structs.replace(
                TESTING_NOTIFY,
                oidc_issuer=self.issuer,
                oidc_client_id=CLIENT_ID,
                oidc_client_secret=CLIENT_SECRET,
                public_url=f"http://127.0.0.1:{ports['notify']}",
            )
            return {"notify": notify}

        return configs


@contextmanager
def oidc_provider() -> Iterator[Provider]:
    """The provider on a free loopback port; it insists on a nonce, as a strict provider does."""
    with run_server_in_thread(require_nonce=True) as server:
        yield Provider(f"http://localhost:{server.server_port}")
