"""Why did I get this? Through the three running services, each kind of message (an offer, an
alternative sent for a product out of stock, a back-in-stock answer, a pickup update, a journey's step)
is logged with its why in French and English, and reaches a browser (Web Push, decrypted as a
browser does), an iPhone (APNs stand-in) and an Android phone (FCM stand-in) with the why in the
phone's language: the zone or the store by name, the consent, the stock, and never a coordinate."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import System
from tests.support.apns_service import device_token
from tests.support.builders import (
    DAYTIME,
    EVERY_PURPOSE,
    STORE,
    Shopper,
    campaign,
    create_store,
    enter,
    pickup_store,
    place_order,
    product,
    settled,
    shopper,
    timezone_at,
)
from tests.support.fcm_service import registration_token
from tests.support.journeys import exited, saved, welcome
from tests.support.native_apps import AppShopper, NativePush, app_shopper, native_push
from tests.support.push_service import LocalPushService

COORDINATES = re.compile(r"\d+[.,]\d+")
"""A decimal number, as a latitude or longitude is written (48.86, 2,347)."""
MONTHS_FR = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()


@pytest.fixture(scope="module")
async def native(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NativePush]:
    async with native_push(tmp_path_factory.mktemp("native")) as stand_ins:
        yield stand_ins


@pytest.fixture
def push_hosts(push: LocalPushService, native: NativePush) -> tuple[str, ...]:
    return (push.host, *native.hosts)


@pytest.fixture
def configs(native: NativePush) -> dict[str, Any]:
    return {"notify": native.settings()}


class Phones:
    """A browser in French, an iPhone in French and an Android phone in English."""

    def __init__(self, browser: Shopper, iphone: AppShopper, android: AppShopper) -> None:
        self.browser, self.iphone, self.android = browser, iphone, android

    @property
    def all(self) -> tuple[Shopper, Shopper, Shopper]:
        return (self.browser, self.iphone, self.android)


async def phones(system: System, push: LocalPushService, browser_locale: str = "fr-FR", **consents: bool) -> Phones:
    consents = consents or EVERY_PURPOSE
    return Phones(
        await shopper(system, push, locale=browser_locale, **consents),
        await app_shopper(system, "apns", device_token(), locale="fr-FR", **consents),
        await app_shopper(system, "fcm", registration_token(), locale="en-GB", **consents),
    )


def said(message: dict[str, Any], fr: list[str], en: list[str]) -> None:
    """The logged why names each of these, in its language, and holds no coordinate."""
    why = message["why"]
    assert set(why) == {"fr", "en"}, message
    for locale, phrases in (("fr", fr), ("en", en)):
        for phrase in phrases:
            assert phrase in why[locale], (locale, phrase, why[locale])
        assert not COORDINATES.search(why[locale]), why[locale]
        assert str(STORE["lat"]) not in why[locale] and str(STORE["lng"]) not in why[locale]


async def pushed_whys(push: LocalPushService, native: NativePush, on: Phones) -> list[str]:
    """The why each phone's push carried: decrypted from the browser's, read from the apps' payloads."""
    [web] = push.received(on.browser.sub)
    assert push.refused == []  # VAPID checked, payload decrypted
    [apns] = await native.arrived(on.iphone)
    [fcm] = await native.arrived(on.android)
    return [web.payload["why"], apns.payload["accueil"]["why"], fcm.message["data"]["why"]]


async def logged(system: System, on: Phones) -> list[dict[str, Any]]:
    found = []
    for who in on.all:
        [message] = await settled(system, who)
        assert message["status"] == "sent", message
        found.append(message)
    return found


async def check_pushes(push: LocalPushService, native: NativePush, on: Phones, messages: list[dict[str, Any]]) -> None:
    """Each push carries the logged why in the message's own language."""
    whys = await pushed_whys(push, native, on)
    assert [m["locale"][:2] for m in messages] == ["fr", "fr", "en"]
    assert whys == [m["why"][m["locale"][:2]] for m in messages]


async def test_an_offer_says_the_zone_the_store_the_consent_the_stock_and_the_campaign(
    system: System, push: LocalPushService, native: NativePush
) -> None:
    await create_store(system, name="Entrance")
    await product(system, "YOG-1", "Plain yoghurt", 5, names={"fr": "Yaourt nature"})
    await campaign(system, "welcome", "YOG-1")
    on = await phones(system, push)
    await asyncio.gather(*(enter(system, who) for who in on.all))

    messages = await logged(system, on)
    for message in messages:
        said(
            message,
            fr=[
                "Vous étiez dans « Entrance », au magasin Rivoli.",
                "offres",
                "En stock dans ce magasin aujourd’hui : Yaourt nature",
            ],
            en=["You were in “Entrance” at Rivoli.", "You said yes to offers.", "In stock there today: Plain yoghurt"],
        )
        assert "campaign “welcome”" in message["why"]["en"] and "outside quiet hours" in message["why"]["en"]
    await check_pushes(push, native, on, messages)


async def test_an_alternative_says_what_was_out_of_stock_and_what_was_sent_instead(
    system: System, push: LocalPushService, native: NativePush
) -> None:
    await create_store(system)
    await product(system, "YOG-1", "Plain yoghurt", 0, names={"fr": "Yaourt nature"})
    await product(system, "YOG-2", "Greek yoghurt", 5, names={"fr": "Yaourt grec"})
    await campaign(system, "welcome", "YOG-1")
    on = await phones(system, push)
    await asyncio.gather(*(enter(system, who) for who in on.all))

    messages = await logged(system, on)
    for message in messages:
        assert message["sku"] == "YOG-2"
        said(
            message,
            fr=[
                "Vous étiez au magasin Rivoli.",
                "offres",
                "Plus en stock dans ce magasin : Yaourt nature",
                "Yaourt grec, en stock",
            ],
            en=[
                "You were at Rivoli.",
                "offers",
                "Out of stock there: Plain yoghurt. This is about Greek yoghurt instead",
            ],
        )
    await check_pushes(push, native, on, messages)


async def test_a_back_in_stock_answer_says_the_store_and_when_the_shopper_asked(
    system: System, push: LocalPushService, native: NativePush
) -> None:
    await create_store(system)
    await product(system, "YOG-1", "Plain yoghurt", 0, names={"fr": "Yaourt nature"})
    on = await phones(system, push)
    asked = []
    for who in on.all:
        r = await system.notify.put(f"/v1/devices/{who.device_id}/back-in-stock/rivoli/YOG-1", headers=who.auth)
        assert r.status_code == 200, r.text
        asked.append(r.json()["requested_at"])
    r = await system.inventory.put("/v1/stores/rivoli/stock/YOG-1", json={"on_hand": 3}, headers=system.admin)
    assert r.status_code == 200, r.text

    messages = await logged(system, on)
    for message, requested_at in zip(messages, asked, strict=True):
        # The day it was asked in the phone's time zone (the builders put every phone at midday).
        day = datetime.fromisoformat(requested_at).astimezone(ZoneInfo(timezone_at(DAYTIME))).date()
        on_fr = f"{'1er' if day.day == 1 else day.day} {MONTHS_FR[day.month - 1]} {day.year}"
        said(
            message,
            fr=[
                f"Le {on_fr}, vous avez demandé",
                "Yaourt nature au magasin Rivoli",
                "De nouveau en stock dans ce magasin : Yaourt nature",
            ],
            en=[
                "you asked to be told when Plain yoghurt came back in stock at Rivoli",
                "Back in stock there: Plain yoghurt",
            ],
        )
    await check_pushes(push, native, on, messages)


async def test_a_pickup_update_says_the_store_the_consent_and_that_the_order_is_set_aside(
    system: System, push: LocalPushService, native: NativePush
) -> None:
    await pickup_store(system)
    pickup_only = {"location": False, "offers": False, "pickup_updates": True}
    on = Phones(
        await shopper(system, push, locale="fr-FR", **pickup_only),
        await app_shopper(system, "apns", device_token(), locale="fr-FR", **pickup_only),
        await app_shopper(system, "fcm", registration_token(), locale="en-GB", **pickup_only),
    )
    for who in on.all:
        order_id = await place_order(system, who)
        r = await system.inventory.post(f"/v1/orders/{order_id}/ready", headers=system.admin)
        assert r.status_code == 200, r.text

    messages = await logged(system, on)
    for message in messages:
        assert message["purpose"] == "pickup_updates"
        said(
            message,
            fr=["retraits de commande", "ses articles vous attendent au magasin Rivoli", "à toute heure"],
            en=["You said yes to pickup updates.", "its items are set aside for you at Rivoli", "at any hour"],
        )
    await check_pushes(push, native, on, messages)


async def test_a_journey_step_says_the_zone_it_was_entered_in_and_the_journey_and_step(
    system: System, push: LocalPushService, native: NativePush
) -> None:
    await create_store(system, name="Entrance")
    await product(system, "YOG-1", "Plain yoghurt", 5, names={"fr": "Yaourt nature"})
    await saved(system, "welcome", welcome())
    on = await phones(system, push)
    await asyncio.gather(*(enter(system, who) for who in on.all))
    for who in on.all:
        await exited(system, who, "welcome")

    messages = await logged(system, on)
    for message in messages:
        assert (message["journey_id"], message["step"]) == ("welcome", "offer")
        said(
            message,
            fr=[
                "« Entrance », au magasin Rivoli",
                "offres",
                "En stock dans ce magasin aujourd’hui : Yaourt nature",
                "parcours « Welcome »",
            ],
            en=[
                "“Entrance” at Rivoli.",
                "offers",
                "In stock there today: Plain yoghurt",
                "step “offer” of the journey",
            ],
        )
    await check_pushes(push, native, on, messages)
