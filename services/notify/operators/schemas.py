"""Operators and console sessions on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar.params import Parameter

from shared.auth import OperatorRole
from shared.wire import END, Answer, Body, Id

# An email address as a path parameter (the one outside the id rule): up to 254 characters, one `@`,
# no spaces, control characters or slashes; `+` and the rest of what mailbox names hold are allowed.
EMAIL_PATTERN = rf"^[^\x00-\x20\x7f@/\\]{{1,64}}@[^\x00-\x20\x7f@/\\]{{1,252}}{END}"
EMAIL_RULE = "an email address: up to 254 characters, one @, no spaces, control characters or slashes"
PathEmail = Annotated[str, Parameter(pattern=EMAIL_PATTERN, min_length=3, max_length=254, description=EMAIL_RULE)]


class OperatorPut(Body):
    role: OperatorRole
    stores: Annotated[list[Id], msgspec.Meta(max_length=100)] | msgspec.UnsetType = msgspec.UNSET
    """The stores a store manager runs (required for `store_manager`, each one known to geo); the other
    roles reach every store and take none."""


class Operator(Answer):
    email: str
    role: OperatorRole
    stores: list[str]


class OperatorList(Answer):
    operators: list[Operator]
    """by email"""


class ConsoleSession(Answer):
    email: str
    role: OperatorRole
    stores: list[str]
    token: str
    """A bearer token for the operator's calls to the three services, with their role's rights; ask
    again before `expires_at` for a fresh one."""
    expires_at: datetime
