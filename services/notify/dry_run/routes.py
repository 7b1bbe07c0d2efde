"""Dry runs: what a campaign or a journey would have done, before it goes live."""

from __future__ import annotations

from litestar import post
from litestar.params import JSONBody

from services.notify.context import NotifyContext
from services.notify.dry_run import service
from services.notify.dry_run.schemas import CampaignDryRun, DryRun, JourneyDryRun, JourneyDryRunAnswer
from shared.auth import Caller
from shared.context import FromContext


@post("/v1/campaigns/dry-run", status_code=200)
async def campaign_dry_run(
    data: JSONBody[CampaignDryRun], principal: Caller, ctx: FromContext[NotifyContext]
) -> DryRun:
    """Over the last `days` days of stored history, how many devices the campaign would have reached,
    how many offers it would have sent and why the others would not have been: nothing is sent,
    queued, logged or published."""
    principal.require_role("marketer")
    return await service.campaign_dry_run(ctx, data)


@post("/v1/journeys/dry-run", status_code=200)
async def journey_dry_run(
    data: JSONBody[JourneyDryRun], principal: Caller, ctx: FromContext[NotifyContext]
) -> JourneyDryRunAnswer:
    """Over the last `days` days of stored history, how many devices would have entered the journey,
    how far they would have walked it, what its message steps would have sent and why not: nothing is
    sent, queued, logged or published."""
    principal.require_role("marketer")
    return await service.journey_dry_run(ctx, data)


ROUTES = [campaign_dry_run, journey_dry_run]
