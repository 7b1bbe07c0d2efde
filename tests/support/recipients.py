"""What the message policy's unit tests build: a shopper as a recipient, the moment of an event, a
message said before, and hypothesis strategies over recipients and moments (offers' and the policy's
own tests share them)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from services.notify.policy.decide import Moment, Past, Recipient
from services.notify.policy.purposes import OFFERS

ALL_CONSENTS = {"offers": True, "pickup_updates": True, "location": True, "product_tips": True}


def shopper(**kw) -> Recipient:
    base = {"consents": ALL_CONSENTS, "locale": "fr-FR", "timezone": "Europe/Paris", "subscribed": True}
    return Recipient(**{**base, **kw})


def at(when: datetime, store: str = "rivoli", event_id: int = 100) -> Moment:
    return Moment(event_id=event_id, store_id=store, now=when)


def said(sku: str, when: datetime, store: str = "rivoli", purpose: str = OFFERS, event_id: int = 1) -> Past:
    return Past(event_id=event_id, purpose=purpose, store_id=store, subject=sku, at=when)


moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)).map(
    lambda d: at(d)
)
recipients = st.builds(
    Recipient,
    consents=st.fixed_dictionaries({"offers": st.booleans()}),
    locale=st.sampled_from(["fr", "en", "de-AT"]),
    timezone=st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC"]),
    subscribed=st.booleans(),
)
