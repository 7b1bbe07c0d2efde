"""notify's own settings, from ACCUEIL_<FIELD> variables (ctx.config)."""

from __future__ import annotations

from datetime import time
from typing import Annotated
from urllib.parse import urlsplit

import msgspec

from services.notify.policy.decide import Policy
from shared.egress import is_loopback
from shared.settings import EMPTY_IS_A_VALUE

Count = Annotated[int, msgspec.Meta(ge=0, le=1000)]
HttpsUrl = Annotated[str, msgspec.Meta(pattern=r"^https://[^\s/?#@]+/?$", description="https://host[:port]")]
ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, 24 h")]


class NotifySettings(msgspec.Struct, frozen=True, kw_only=True):
    vapid_private_key: str = ""
    """The operator's VAPID signing key: base64url of the raw 32-byte P-256 private key (what
    `web-push generate-vapid-keys` prints) or of its DER. Empty: a key pair is generated on first
    start and kept in the database, so every replica signs with the same one."""

    vapid_public_key: str = ""
    """Optional beside ACCUEIL_VAPID_PRIVATE_KEY: checked against it at start-up, because browsers
    subscribed with the public key and a mismatch would make every push fail."""

    vapid_subject: Annotated[str, msgspec.Meta(pattern=r"^(mailto:[^@\s]+@[^@\s]+|https://\S+)$")] = (
        "mailto:webpush@example.com"
    )
    """How push services can reach the operator (a mailto: or https: URL). Set it in production:
    some push services refuse placeholder addresses."""

    offers_per_store_day: Count = 1
    """At most this many offers per device per store per local day (the device's time zone)."""

    offers_per_week: Count = 3
    """At most this many offers per device per local week (ISO week, Monday first)."""

    quiet_hours_start: ClockTime = "21:00"
    quiet_hours_end: ClockTime = "08:00"
    """No offer reaches a device between these local times: it is held until the end, and sent then
    only if the shopper is still in the store. Equal times: no quiet hours."""

    message_retention_days: Annotated[int, msgspec.Meta(ge=1)] = 90
    """The message log (every decision, sent or not) is deleted after this long."""

    audit_retention_days: Annotated[int, msgspec.Meta(ge=1)] = 365
    """The audit log (every change by an operator or the admin token) is deleted after this long."""

    back_in_stock_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 30
    """A back-in-stock request not answered this long after it was made lapses: nothing is said."""

    registrations_per_hour: Count = 300
    """Devices one client address may register in an hour (behind a proxy: see ACCUEIL_TRUSTED_PROXIES);
    beyond, 429 with Retry-After. An IPv6 client's address counts as its /64, the block one household or
    phone is given. The default is sized for carrier NAT: a mobile carrier puts hundreds to thousands of
    phones behind one public IPv4 address, and a store's Wi-Fi puts a whole store behind one, so 300 an
    hour lets a busy store's or a carrier's shoppers install the app at once, while one script is held
    to 300 devices an hour from an address, each deleted if it never answers
    (ACCUEIL_UNCONSENTED_DEVICE_HOURS)."""

    unconsented_device_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 365)] = 24
    """A device that never recorded any consent (not even "no" to everything) is deleted this long after
    it registered, with all notify holds of it and its token: what a script registers does not stay."""

    consent_changes_per_hour: Count = 20
    """Answers that change a device's consents, at most, in any hour (beyond: 429 with Retry-After):
    each is kept as proof with the text shown (up to 5,000 characters), so this budget is also what
    bounds the history's count over time."""

    back_in_stock_requests_per_hour: Count = 30
    """Back-in-stock requests one device may make, at most, in any hour (beyond: 429 with Retry-After):
    each is kept with its proof (the text shown, up to 5,000 characters), so a PUT/DELETE loop would
    grow the table without bound. Asking again for an open request, and withdrawing, are free."""

    push_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 10.0
    """How long one request to a push service may take, connection included."""

    apns_key_file: str = ""
    """APNs' token signing key (the `.p8` file Apple hands out, PEM): unset, no APNs. Mounted from a
    Secret; never logged."""

    apns_key_id: Annotated[str, msgspec.Meta(max_length=64)] = ""
    apns_team_id: Annotated[str, msgspec.Meta(max_length=64)] = ""
    """The key's id and the Apple developer team's id (the provider JWT's `kid` and `iss`)."""

    apns_topic: Annotated[str, msgspec.Meta(max_length=255)] = ""
    """The iOS app's bundle id (`apns-topic`)."""

    apns_url: HttpsUrl = "https://api.push.apple.com"
    apns_sandbox_url: HttpsUrl = "https://api.sandbox.push.apple.com"
    """Where production and sandbox device tokens are pushed to."""

    fcm_service_account_file: str = ""
    """The Firebase project's service account key (JSON: project_id, client_email, private_key,
    token_uri): unset, no FCM. Mounted from a Secret; never logged."""

    fcm_url: HttpsUrl = "https://fcm.googleapis.com"

    push_ca_file: str = ""
    """CA certificates (PEM) trusted for APNs, FCM and the token endpoint beside the system's own
    (a private gateway, a test's stand-ins); never instead of them."""

    webhook_hosts: tuple[str, ...] = ()
    """Loopback `host:port` entries a webhook may be registered on (plain http allowed there); any
    other webhook URL must be https on a public address."""

    webhook_retry_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 5.0
    """The first wait before a failed webhook delivery is retried; it doubles on each failure (at
    most one hour) until 24 h after the event."""

    webhook_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 10.0
    """How long one webhook request may take, connection included."""

    controller_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = "accueil"
    """Who decides what the data is for (the retailer): named in every consent receipt."""

    jurisdiction: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "EU"
    """The law consent is given under, as consent receipts name it."""

    device_token_ttl_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 90
    """A device token lasts this long; the app trades it for a fresh one (POST /v1/devices/{id}/token)
    before then, so a token copied off a phone stops working on its own."""

    staff_token_ttl_s: Annotated[int, msgspec.Meta(ge=1, le=30 * 86400)] = 12 * 3600
    """A staff token lasts a shift; the staff page renews it (POST /v1/staff/{id}/token) while it is open."""

    streams_per_staff: Annotated[int, msgspec.Meta(ge=1)] = 3
    streams_per_store: Annotated[int, msgspec.Meta(ge=1)] = 50
    """Open alert streams on one replica, per staff member and per store: past that, 429."""

    public_geo_url: Annotated[str, msgspec.Meta(pattern=r"^(https?://[^\s/]+(/\S*)?)?$")] = ""
    public_inventory_url: Annotated[str, msgspec.Meta(pattern=r"^(https?://[^\s/]+(/\S*)?)?$")] = ""
    """Where a shopper's browser reaches geo and inventory (the shopper page's SDK calls them there,
    and its Content-Security-Policy allows exactly those). Empty: ACCUEIL_GEO_URL and
    ACCUEIL_INVENTORY_URL, right when the browser runs beside `accueil run`; behind an Ingress, its
    public hosts. geo and inventory must list notify's public origin in ACCUEIL_CORS_ORIGINS."""

    console_tile_url: Annotated[
        str, msgspec.Meta(pattern=r"^(https?://[^\s/?#@{}]+/\S*\{z\}\S*)?$"), EMPTY_IS_A_VALUE
    ] = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    """The map tiles the console draws stores over ({z}/{x}/{y}, as Leaflet takes them); the page's
    Content-Security-Policy lets images come from this origin and no other. Empty: no tiles, the
    plain drawing (as when the browser cannot fetch them)."""

    console_tile_attribution: Annotated[str, msgspec.Meta(max_length=300)] = "© OpenStreetMap contributors"
    """Shown on the map, as the tiles' licence asks (plain text)."""
    oidc_issuer: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    """The retailer's OpenID Connect provider (its discovery document is at
    `{issuer}/.well-known/openid-configuration`): https, or http on a loopback host. Unset: the console
    signs in with the admin token."""

    oidc_client_id: Annotated[str, msgspec.Meta(max_length=500)] = ""
    oidc_client_secret: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    """The console's client at the provider (a confidential client: the code is traded with its secret
    and the PKCE verifier). Mounted from a Secret; never logged."""

    public_url: Annotated[str, msgspec.Meta(pattern=r"^(https?://[^\s/?#@]+)?$")] = ""
    """notify's public origin, as a browser reaches it (`https://accueil.example.com`): the provider
    sends the browser back to `{public_url}/console/callback`, and state-changing console calls must
    come from this origin."""

    operator_token_ttl_s: Annotated[int, msgspec.Meta(ge=60, le=3600)] = 900
    """An operator's bearer token (what `GET /console/session` hands the console's script) lasts this
    long; the console asks for a fresh one before then. A removed operator's tokens are refused at once."""

    console_session_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 30)] = 12
    """A console session (the cookie after single sign-on) lasts this long; then the operator signs in
    again with the provider."""

    def __post_init__(self) -> None:
        sso = (self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret, self.public_url)
        if any(sso) and not all(sso):
            raise ValueError(
                "single sign-on needs ACCUEIL_OIDC_ISSUER, ACCUEIL_OIDC_CLIENT_ID, ACCUEIL_OIDC_CLIENT_SECRET "
                "and ACCUEIL_PUBLIC_URL together"
            )
        if self.oidc_issuer and not secure_or_loopback(self.oidc_issuer):
            raise ValueError("ACCUEIL_OIDC_ISSUER must be https (or http on a loopback host)")

    @property
    def single_sign_on(self) -> bool:
        """Operators sign in with the retailer's OpenID Connect provider (else: the admin token)."""
        return bool(self.oidc_issuer)

    def policy(self) -> Policy:
        return Policy(
            offers_per_store_day=self.offers_per_store_day,
            offers_per_week=self.offers_per_week,
            quiet_start=time.fromisoformat(self.quiet_hours_start),
            quiet_end=time.fromisoformat(self.quiet_hours_end),
        )

    @property
    def lease_s(self) -> float:
        """How long a claimed message stays `sending` before another replica presumes its sender
        died: well past the longest a send can take (one push timeout, plus the database writes)."""
        return 2 * self.push_timeout_s + 2


def secure_or_loopback(url: str) -> bool:
    """https anywhere, plain http only to this machine (a provider run beside notify, in a test)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    return is_loopback(parts.hostname)
