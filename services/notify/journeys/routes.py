"""Journeys: their lifecycle, their results, and a device's enrollments."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, put
from litestar.params import JSONBody, QueryParameter

from services.notify.context import NotifyContext
from services.notify.journeys import service
from services.notify.journeys.schemas import Enrollments, Journey, JourneyPut, JourneyResults
from services.notify.offers.routes import INSTANT, instant
from shared.auth import Caller
from shared.context import FromContext
from shared.errors import errors
from shared.wire import PathId


@put("/v1/journeys/{journey_id:str}", responses=errors(409))
async def put_journey(
    journey_id: PathId, data: JSONBody[JourneyPut], principal: Caller, ctx: FromContext[NotifyContext]
) -> Journey:
    """Create or change a journey: a changed flow is a new `version` for new entries."""
    principal.require_role("marketer")
    return await service.save_journey(ctx, journey_id, data)


@get("/v1/journeys")
async def list_journeys(principal: Caller, ctx: FromContext[NotifyContext]) -> list[Journey]:
    """Every journey by id, ended ones included (with ended_at)."""
    principal.require_role("marketer")
    return await service.list_journeys(ctx)


@get("/v1/journeys/{journey_id:str}")
async def get_journey(journey_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> Journey:
    principal.require_role("marketer")
    return await service.get_journey(ctx, journey_id)


@delete("/v1/journeys/{journey_id:str}")
async def delete_journey(journey_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> None:
    """Ends it: devices in it exit (`journey_ended`); its results are kept."""
    principal.require_role("marketer")
    await service.end_journey(ctx, journey_id)


@get("/v1/journeys/{journey_id:str}/results")
async def get_results(
    journey_id: PathId,
    principal: Caller,
    ctx: FromContext[NotifyContext],
    from_: Annotated[str | None, QueryParameter(name="from", schema_extra=INSTANT)] = None,
    to: Annotated[str | None, QueryParameter(schema_extra=INSTANT)] = None,
) -> JourneyResults:
    """What came of the devices that entered between from and to (RFC 3339; all time by default)."""
    principal.require_role("marketer")
    return await service.results(ctx, journey_id, instant(from_, "from"), instant(to, "to"))


@get("/v1/devices/{device_id:str}/journeys")
async def get_enrollments(device_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> Enrollments:
    """The journeys the device is in or was in, oldest first."""
    principal.require_device(device_id)
    return await service.enrollments_of(ctx, device_id)


ROUTES = [put_journey, list_journeys, get_journey, delete_journey, get_results, get_enrollments]
