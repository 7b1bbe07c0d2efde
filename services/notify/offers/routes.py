"""Campaigns: their lifecycle and their results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import delete, get, put
from litestar.params import JSONBody, QueryParameter

from services.notify.context import NotifyContext
from services.notify.offers import service
from services.notify.offers.schemas import Campaign, CampaignPut, CampaignResults
from shared.auth import Caller
from shared.context import FromContext
from shared.errors import Invalid, errors
from shared.wire import PathId


@put("/v1/campaigns/{campaign_id:str}", responses=errors(409))
async def put_campaign(
    campaign_id: PathId, data: JSONBody[CampaignPut], principal: Caller, ctx: FromContext[NotifyContext]
) -> Campaign:
    principal.require_role("marketer")
    return await service.save_campaign(ctx, campaign_id, data)


@get("/v1/campaigns")
async def list_campaigns(principal: Caller, ctx: FromContext[NotifyContext]) -> list[Campaign]:
    """Every campaign by id, ended ones included (with ended_at)."""
    principal.require_role("marketer")
    return await service.list_campaigns(ctx)


@get("/v1/campaigns/{campaign_id:str}")
async def get_campaign(campaign_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> Campaign:
    principal.require_role("marketer")
    return await service.get_campaign(ctx, campaign_id)


@delete("/v1/campaigns/{campaign_id:str}")
async def delete_campaign(campaign_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> None:
    """Ends it: no more offers; its messages and results are kept."""
    principal.require_role("marketer")
    await service.end_campaign(ctx, campaign_id)


INSTANT = {"format": "date-time"}


def instant(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise Invalid(f"{field} must be an RFC 3339 date-time with its offset", field=field)
    return at


@get("/v1/campaigns/{campaign_id:str}/results")
async def get_results(
    campaign_id: PathId,
    principal: Caller,
    ctx: FromContext[NotifyContext],
    from_: Annotated[str | None, QueryParameter(name="from", schema_extra=INSTANT)] = None,
    to: Annotated[str | None, QueryParameter(schema_extra=INSTANT)] = None,
) -> CampaignResults:
    """What came of the offers decided between from and to (RFC 3339; all time by default)."""
    principal.require_role("marketer")
    return await service.results(ctx, campaign_id, instant(from_, "from"), instant(to, "to"))


ROUTES = [put_campaign, list_campaigns, get_campaign, delete_campaign, get_results]
