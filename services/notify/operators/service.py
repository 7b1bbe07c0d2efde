"""Operators (who may run accueil, with which role) and the console's sessions after single sign-on."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import asyncpg

from services.notify.context import NotifyContext
from services.notify.operators import repository as repo
from services.notify.operators.schemas import ConsoleSession, Operator, OperatorList, OperatorPut
from shared import audit, keys, peers
from shared.errors import BadGateway, Invalid, NotFound, Unauthorized

MAX_EMAIL = 254
STORES_AT_ONCE = 8
"""Stores asked about concurrently when a store manager's list is checked: geo is never flooded."""
REVOCATION_MARGIN_S = 300
"""Past the operator token TTL: a token signed the moment the operator was removed is covered too."""


def email_of(raw: str) -> str:
    """An address is compared without regard to case: stored, and looked up, in lower case (Python's
    Unicode lower case, not the database's, which depends on its collation)."""
    email = raw.lower()
    if len(email) > MAX_EMAIL:  # a few characters grow in lower case ("İ" is two)
        raise Invalid(f"an email address has at most {MAX_EMAIL} characters", field="email")
    return email


def operator_of(row: asyncpg.Record) -> Operator:
    return Operator(email=row["email"], role=row["role"], stores=list(row["stores"]))


async def _check_stores(ctx: NotifyContext, stores: list[str]) -> None:
    """Each store must exist in geo: asked before any transaction opens."""
    limit = asyncio.Semaphore(STORES_AT_ONCE)

    async def known(store_id: str) -> bool:
        async with limit:
            status, _ = await peers.get_json(ctx, "geo", f"/v1/stores/{store_id}")
        return status != 404

    try:
        answers = await asyncio.gather(*(known(store_id) for store_id in stores))
    except peers.PeerError as exc:
        raise BadGateway("geo cannot confirm the stores right now; retry shortly") from exc
    unknown = [store_id for store_id, ok in zip(stores, answers, strict=True) if not ok]
    if unknown:
        raise Invalid(f"unknown stores: {', '.join(unknown)}", field="stores")


async def put_operator(ctx: NotifyContext, raw_email: str, data: OperatorPut) -> Operator:
    """Created or replaced whole. A store manager runs the stores named (at least one); the
    other roles reach every store and name none. Tokens already signed keep the role they carry until
    they expire (the operator token TTL); to cut access at once, remove the operator."""
    email = email_of(raw_email)
    stores = sorted(set(data.stores)) if isinstance(data.stores, list) else []
    if data.role == "store_manager" and not stores:
        raise Invalid("a store manager needs at least one store", field="stores")
    if data.role != "store_manager" and stores:
        raise Invalid(
            f"only a store manager has stores; an operator of role {data.role} reaches them all", field="stores"
        )
    if stores:
        await _check_stores(ctx, stores)
    async with ctx.db.transaction() as conn:
        before = await repo.get_operator(conn, email, lock=True)
        row = await repo.put_operator(conn, email, data.role, stores)
        await audit.record(conn, ctx.service, before and operator_of(before), operator_of(row))
    return operator_of(row)


async def list_operators(ctx: NotifyContext) -> OperatorList:
    async with ctx.db.transaction(readonly=True) as conn:
        rows = await repo.list_operators(conn)
    return OperatorList(operators=[operator_of(row) for row in rows])


async def remove_operator(ctx: NotifyContext, raw_email: str) -> None:
    """The operator leaves: their console sessions are deleted and every token of theirs is revoked, in
    one transaction; every process of every service refuses the tokens once it commits. The revocation
    lasts as long as a token of theirs could: added back sooner, they sign in again once it lapses."""
    email = email_of(raw_email)
    mark = ctx.signer.subject_mark(email)
    until = datetime.now(UTC) + timedelta(seconds=ctx.config.operator_token_ttl_s + REVOCATION_MARGIN_S)
    async with ctx.db.transaction() as conn:
        before = await repo.get_operator(conn, email, lock=True)
        if before is None or not await repo.delete_operator(conn, email):
            raise NotFound(f"unknown operator {email!r}", field="email")
        await ctx.revocations.revoke(conn, mark, until)
        await audit.record(conn, ctx.service, operator_of(before), None)
    ctx.revocations.add(mark, until)  # this process refuses the tokens at once


def _session_hash(session_id: str) -> bytes:
    """Only this is stored: the cookie is the secret, and a copy of the table opens no session."""
    return hashlib.sha256(session_id.encode()).digest()


def _session_token_id(session_id: str) -> str:
    """The `jti` every token of one session carries, so that signing out revokes them all (and nothing
    else of the operator's)."""
    return "console:" + keys.b64url(hashlib.sha256(b"console token " + session_id.encode()).digest()[:18])


async def open_session(ctx: NotifyContext, email: str) -> tuple[str, datetime] | None:
    """A console session for the operator this email names (None: it names no operator): the session
    id for the cookie, and when it ends."""
    session_id = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(hours=ctx.config.console_session_hours)
    async with ctx.db.transaction() as conn:
        if await repo.get_operator(conn, email) is None:
            return None
        await repo.create_session(conn, _session_hash(session_id), email, expires_at)
    return session_id, expires_at


async def session_token(ctx: NotifyContext, session_id: str | None) -> ConsoleSession:
    """Who is signed in, as they are now, with a fresh short-lived token for their calls."""
    if not session_id:
        raise Unauthorized("not signed in")
    async with ctx.db.transaction(readonly=True) as conn:
        row = await repo.session_operator(conn, _session_hash(session_id))
    if row is None:
        raise Unauthorized("not signed in, or the session has ended")
    now = int(datetime.now(UTC).timestamp())
    ttl = ctx.config.operator_token_ttl_s
    stores = list(row["stores"])
    token = ctx.signer.issue(
        row["role"],
        row["email"],
        ttl_s=ttl,
        jti=_session_token_id(session_id),
        extra={"stores": stores} if stores else None,
        now=now,
    )
    return ConsoleSession(
        email=row["email"],
        role=row["role"],
        stores=stores,
        token=token,
        expires_at=datetime.fromtimestamp(now + ttl, UTC),
    )


async def close_session(ctx: NotifyContext, session_id: str | None) -> None:
    """Signing out ends this session and the tokens it handed out; the operator's other sessions stay."""
    if not session_id:
        return
    token_id = _session_token_id(session_id)
    until = datetime.now(UTC) + timedelta(seconds=ctx.config.operator_token_ttl_s + REVOCATION_MARGIN_S)
    async with ctx.db.transaction() as conn:
        await repo.delete_session(conn, _session_hash(session_id))
        await ctx.revocations.revoke(conn, token_id, until)
    ctx.revocations.add(token_id, until)
