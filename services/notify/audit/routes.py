"""The audit log over HTTP: for the admin."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import Parameter

from services.notify.audit import service
from services.notify.audit.schemas import AuditPage
from services.notify.context import NotifyContext
from shared.auth import Caller
from shared.context import FromContext
from shared.wire import Cursor


@get("/v1/audit")
async def get_audit(
    principal: Caller,
    ctx: FromContext[NotifyContext],
    after: Cursor = 0,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Every change made by an operator or the admin token in the three services, oldest first: who,
    which call, the resource before and after. Page with `after` = the `next_after` of the page before."""
    principal.require_admin()
    return await service.page(ctx, after, limit)


ROUTES = [get_audit]
