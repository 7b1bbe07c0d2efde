"""What may be said to whom: pure functions of a recipient, a moment and the policy, no I/O.

Every message notify decides goes through these rules; the first that refuses gives the reason
recorded:

1. consent for the message's purpose ............................. `no_consent`
2. a push subscription to reach the device ....................... `no_subscription`
   (the feature's own rules: an offer's product in stock, its campaign's hours...; see offers/decide.py)
3. the device was already told this, at this store, today ........ `duplicate`
4. for capped purposes (offers), frequency caps, counted in the device's time zone ... `frequency_cap`
5. for offers and product tips, quiet hours: held until they end ... `held`, reason `quiet_hours`

Which purposes 4 and 5 apply to is said in policy/purposes.py: caps are for promotions; a product
tip is not one, so it is neither capped nor counted, but it is not said at night either.

Pickup updates (`decide_pickup`) need only 1 and 2: a shopper waiting at the pickup bay must hear
at once, whatever the hour, and each update answers one step of one order, so it is decided once per
event (the message log's unique key) and never counted against offers.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from services.notify.policy.purposes import FREQUENCY_CAPPED, HELD_IN_QUIET_HOURS, PICKUP_UPDATES
from shared.events import Purpose

FALLBACK_LOCALE = "en"

Status = Literal["pending", "held", "suppressed"]
"""pending: to be delivered now; held: until `send_after`; suppressed: never said (the reason says why)."""


@dataclass(frozen=True)
class Policy:
    """The operator's caps and quiet hours (ACCUEIL_OFFERS_PER_*, ACCUEIL_QUIET_HOURS_*)."""

    offers_per_store_day: int = 1
    offers_per_week: int = 3
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)


@dataclass(frozen=True)
class Past:
    """A message already on its way to the device, sent, or held for it: what caps and duplicates
    count. Failures count too: a message that failed to arrive never earns the shopper another."""

    event_id: int
    purpose: str
    store_id: str | None
    subject: str | None  # what it was about: the SKU of an offer
    at: datetime


@dataclass(frozen=True)
class Recipient:
    consents: dict[Purpose, bool]
    locale: str
    timezone: str
    subscribed: bool
    recent: tuple[Past, ...] = ()

    def remember(self, past: Past) -> Recipient:
        return replace(self, recent=(*self.recent, past))


@dataclass(frozen=True)
class Moment:
    """The event being answered, and when the decision is taken (an aware datetime)."""

    event_id: int
    store_id: str | None
    now: datetime
    happened_at: datetime | None = None  # the event's own time (a late upload: long before `now`)
    confidence: float | None = None  # how sure geo is the device is in the zone (0..1)
    store_timezone: str = "UTC"  # where the campaign's hours are read


@dataclass(frozen=True)
class Decision:
    status: Status
    reason: str | None = None
    sku: str | None = None
    locale: str | None = None
    title: str | None = None
    body: str | None = None
    send_after: datetime | None = None

    def suppressed(self, reason: str) -> Decision:
        """Nothing is said: the text is dropped, what it was about is kept."""
        return Decision("suppressed", reason, sku=self.sku)


def pick_locale(wanted: str, available: Collection[str]) -> str:
    """fr-CA -> fr-CA, else fr, else en, else the first there is (`available`: the locales written,
    e.g. a dict of texts by locale)."""
    keys = list(available)
    if not keys:
        return FALLBACK_LOCALE
    lowered = {k.lower(): k for k in keys}
    for candidate in (wanted.lower(), wanted.split("-")[0].lower(), FALLBACK_LOCALE):
        if candidate in lowered:
            return lowered[candidate]
    return keys[0]


def admit(purpose: Purpose, who: Recipient) -> str | None:
    """Consent, then a way to reach the device: the reason to stay silent, checked before any other work."""
    if not who.consents.get(purpose, False):
        return "no_consent"
    if not who.subscribed:
        return "no_subscription"
    return None


def decide_pickup(texts: dict[str, tuple[str, str]], who: Recipient) -> Decision:
    """A pickup update (`texts`: locale -> (title, body)), said with the `pickup_updates` consent."""
    refused = admit(PICKUP_UPDATES, who)
    if refused:
        return Decision("suppressed", refused)
    locale = pick_locale(who.locale, texts)
    title, body = texts[locale]
    return Decision("pending", locale=locale, title=title, body=body)


def settle(purpose: str, draft: Decision, who: Recipient, moment: Moment, policy: Policy) -> Decision:
    """A message that may be said (admitted, its text written): is it new and, as its purpose asks,
    within the caps (FREQUENCY_CAPPED) and outside quiet hours (HELD_IN_QUIET_HOURS)? `draft.sku` is
    what the message is about."""
    tz = ZoneInfo(who.timezone)
    local_now = moment.now.astimezone(tz)
    if any(
        p.purpose == purpose
        and p.subject == draft.sku
        and p.store_id == moment.store_id
        and p.at.astimezone(tz).date() == local_now.date()
        for p in who.recent
    ):
        return draft.suppressed("duplicate")
    if purpose in FREQUENCY_CAPPED and over_cap(who.recent, moment.store_id, local_now, policy):
        return draft.suppressed("frequency_cap")
    if purpose in HELD_IN_QUIET_HOURS:
        quiet_end = quiet_until(local_now, policy.quiet_start, policy.quiet_end)
        if quiet_end is not None:
            return replace(draft, status="held", reason="quiet_hours", send_after=quiet_end.astimezone(UTC))
    return draft


def over_cap(recent: tuple[Past, ...], store_id: str | None, local_now: datetime, policy: Policy) -> bool:
    """One more offer would exceed the per-store daily cap or the weekly cap (local day and ISO week).
    Only messages of a capped purpose count: a pickup update or a product tip uses up no offer."""
    tz = local_now.tzinfo
    offers = [(p.store_id, p.at.astimezone(tz)) for p in recent if p.purpose in FREQUENCY_CAPPED]
    today_here = sum(1 for store, at in offers if store == store_id and at.date() == local_now.date())
    this_week = sum(1 for _, at in offers if at.isocalendar()[:2] == local_now.isocalendar()[:2])
    return today_here >= policy.offers_per_store_day or this_week >= policy.offers_per_week


def quiet_until(local_now: datetime, start: time, end: time) -> datetime | None:
    """The local moment the quiet window `local_now` falls in ends, or None outside quiet hours.
    The window may span midnight (21:00-08:00); equal bounds mean no quiet hours."""
    t = local_now.time()
    if start == end:
        return None
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local_now.date() if t < end else local_now.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=local_now.tzinfo)
