"""Campaigns: what to offer, to whom, on which zone event."""

from __future__ import annotations

import msgspec

from services.notify.context import NotifyContext
from services.notify.offers import repository as repo
from services.notify.offers.schemas import Campaign, CampaignPut
from shared.errors import Invalid


async def save_campaign(ctx: NotifyContext, campaign_id: str, data: CampaignPut) -> Campaign:
    if not data.message:
        raise Invalid('message needs at least one locale, e.g. {"en": {"title", "body"}}', field="message")
    async with ctx.db.transaction() as conn:
        await repo.upsert_campaign(
            conn,
            campaign_id,
            msgspec.to_builtins(data.trigger),
            data.sku,
            msgspec.to_builtins(data.message),
            data.active,
        )
    return Campaign(
        campaign_id=campaign_id, trigger=data.trigger, sku=data.sku, message=data.message, active=data.active
    )
