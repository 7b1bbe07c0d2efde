"""Campaigns."""

from __future__ import annotations

from litestar import put
from litestar.params import FromPath, JSONBody

from services.notify.context import NotifyContext
from services.notify.offers import service
from services.notify.offers.schemas import Campaign, CampaignPut
from shared.auth import Caller
from shared.context import FromContext
from shared.wire import check_id


@put("/v1/campaigns/{campaign_id:str}")
async def put_campaign(
    campaign_id: FromPath[str], data: JSONBody[CampaignPut], principal: Caller, ctx: FromContext[NotifyContext]
) -> Campaign:
    principal.require_admin()
    check_id(campaign_id, "campaign_id")
    return await service.save_campaign(ctx, campaign_id, data)


ROUTES = [put_campaign]
