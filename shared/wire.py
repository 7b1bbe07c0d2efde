"""Building blocks for msgspec Structs on the wire: strict, snake_case, with ranges stated once."""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

from shared.errors import Invalid

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
_ID_RE = re.compile(_ID)

Id = Annotated[str, msgspec.Meta(pattern=_ID, description="1-64 characters: letters, digits, . _ : -")]
Lat = Annotated[float, msgspec.Meta(ge=-90, le=90, description="WGS84 latitude, degrees")]
Lng = Annotated[float, msgspec.Meta(ge=-180, le=180, description="WGS84 longitude, degrees")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Locale = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=35)]


class Body(msgspec.Struct, kw_only=True):
    """Base of every request body. Unknown fields are ignored, so an app built against a newer
    version of the contract keeps working; every known field is checked strictly."""


class Answer(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of every response body."""


def check_id(value: str, field: str) -> str:
    """Path parameters get the same rule as ids in bodies."""
    if not _ID_RE.match(value):
        raise Invalid(f"{field} must be 1-64 characters of letters, digits, '.', '_', ':' or '-'", field=field)
    return value
