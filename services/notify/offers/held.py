"""What becomes of an offer held through quiet hours once they are over. Pure.

It is sent if the shopper is still in that store and the product is still in stock there; dropped
otherwise, with the reason (`quiet_hours`: an offer about a store the shopper has left is worthless;
`out_of_stock`: never a promotion for what is not on the shelf). Consent is checked again by the
sender, as for every message.
"""

from __future__ import annotations

from datetime import datetime, timedelta

RELEASE = "release"
MISSED = timedelta(hours=1)
"""A held offer not released within this long after quiet hours ended (geo unreachable all along)
is dropped: by then the visit it was about is over."""


def fate(
    store_id: str | None,
    sku: str | None,
    send_after: datetime,
    stores_now: set[str] | None,
    available: int | None,
    now: datetime,
) -> str | None:
    """RELEASE, the reason to drop it, or None to wait for the next run.

    `stores_now`: the stores geo sees the shopper in (None: geo could not say); `available`: what
    the store can hand over of `sku` (None: a product notify does not know)."""
    if stores_now is None:
        return "quiet_hours" if now - send_after > MISSED else None
    if store_id not in stores_now:
        return "quiet_hours"
    if sku is not None and (available is None or available < 1):
        return "out_of_stock"
    return RELEASE
