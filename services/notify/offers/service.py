"""Campaigns: what to offer, to whom, on which zone event, when; paused, ended, and what came of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from services.notify.context import NotifyContext
from services.notify.offers import repository as repo
from services.notify.offers import schedule as schedule_rules
from services.notify.offers.schemas import (
    Campaign,
    CampaignPut,
    CampaignResults,
    CampaignSchedule,
    CampaignTrigger,
    LocalizedMessage,
)
from services.notify.replicas import service as replicas
from shared import audit
from shared.errors import Conflict, Invalid, NotFound

ATTRIBUTION = timedelta(hours=24)
"""An order counts for an offer if the same device places it at the same store within this long after."""
ALL_TIME = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))


def campaign_of(row: asyncpg.Record) -> Campaign:
    trigger = CampaignTrigger(
        type=row["trigger_type"],
        zone_kind=row["zone_kind"],
        zone_id=row["zone_id"],
        store_id=row["store_id"],
        min_confidence=row["min_confidence"],
    )
    return Campaign(
        campaign_id=row["campaign_id"],
        trigger=trigger,
        sku=row["sku"],
        message=msgspec.convert(row["message"], dict[str, LocalizedMessage]),
        active=row["active"],
        schedule=None if row["schedule"] is None else msgspec.convert(row["schedule"], CampaignSchedule),
        ended_at=row["ended_at"],
    )


def check_document(data: CampaignPut) -> schedule_rules.Schedule | None:
    """What a campaign document must be before anything reads the database (saved or dry-run alike):
    its schedule, or Invalid naming the field."""
    if not data.message:
        raise Invalid('message needs at least one locale, e.g. {"en": {"title", "body"}}', field="message")
    if data.schedule is None:
        return None
    hours = msgspec.to_builtins(data.schedule.hours or [])
    return schedule_rules.parse(data.schedule.starts_at, data.schedule.ends_at, hours)


async def check_product(conn: asyncpg.Connection, data: CampaignPut) -> None:
    """A campaign offers a product inventory told notify about."""
    if not await replicas.product_known(conn, data.sku):
        raise Invalid(f"unknown product {data.sku!r}: create it in inventory first", field="sku")


async def save_campaign(ctx: NotifyContext, campaign_id: str, data: CampaignPut) -> Campaign:
    """Create or change a campaign (active: false pauses it). An ended campaign stays ended."""
    check_document(data)
    async with ctx.db.transaction() as conn:
        await check_product(conn, data)
        earlier = await repo.get_campaign(conn, campaign_id, lock=True)
        if earlier is not None and earlier["ended_at"] is not None:
            raise Conflict(f"campaign {campaign_id!r} has ended: start a new one under another id", field="campaign_id")
        await repo.upsert_campaign(
            conn,
            campaign_id,
            msgspec.to_builtins(data.trigger),
            data.sku,
            msgspec.to_builtins(data.message),
            data.active,
            None if data.schedule is None else msgspec.to_builtins(data.schedule),
        )
        saved = campaign_of(await _campaign_row(conn, campaign_id))
        await audit.record(conn, ctx.service, earlier and campaign_of(earlier), saved)
    return saved


async def _campaign_row(conn: asyncpg.Connection, campaign_id: str) -> asyncpg.Record:
    row = await repo.get_campaign(conn, campaign_id)
    if row is None:
        raise NotFound(f"unknown campaign {campaign_id!r}", field="campaign_id")
    return row


async def get_campaign(ctx: NotifyContext, campaign_id: str) -> Campaign:
    async with ctx.db.transaction(readonly=True) as conn:
        return campaign_of(await _campaign_row(conn, campaign_id))


async def list_campaigns(ctx: NotifyContext) -> list[Campaign]:
    async with ctx.db.transaction(readonly=True) as conn:
        return [campaign_of(r) for r in await repo.list_campaigns(conn)]


async def end_campaign(ctx: NotifyContext, campaign_id: str) -> None:
    """It makes no more offers; its row, messages and results stay. Ending it again: 404 (nothing to end)."""
    async with ctx.db.transaction() as conn:
        earlier = await repo.get_campaign(conn, campaign_id, lock=True)
        if earlier is None:
            raise NotFound(f"unknown campaign {campaign_id!r}", field="campaign_id")
        if not await repo.end_campaign(conn, campaign_id):
            raise NotFound(f"campaign {campaign_id!r} has already ended", field="campaign_id")
        # Ended, not deleted: the campaign is still there to read, with its end.
        await audit.record(conn, ctx.service, campaign_of(earlier), campaign_of(await _campaign_row(conn, campaign_id)))


def window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """A results window as asked (`from`, `to`), all time where a bound is not given."""
    if since is not None and until is not None and until < since:
        raise Invalid("to must not be before from", field="to")
    return since or ALL_TIME[0], until or ALL_TIME[1]


async def results(
    ctx: NotifyContext, campaign_id: str, since: datetime | None, until: datetime | None
) -> CampaignResults:
    """What came of the offers decided in [since, until] (all time by default)."""
    since, until = window(since, until)
    async with ctx.db.transaction(readonly=True) as conn:
        row = await _campaign_row(conn, campaign_id)
        counts = await repo.campaign_counts(conn, campaign_id, row["sku"], since, until)
        suppressed = await repo.suppressed_by_reason(conn, campaign_id, since, until)
        orders = await repo.attributed_orders(conn, campaign_id, since, until, ATTRIBUTION)
    return CampaignResults(
        campaign_id=campaign_id,
        decided=counts["decided"],
        sent=counts["sent"],
        shown=counts["shown"],
        clicked=counts["clicked"],
        suppressed=suppressed,
        alternatives=counts["alternatives"],
        orders=orders["orders"],
        units=orders["units"],
    )
