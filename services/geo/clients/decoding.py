"""A client's own JSON, decoded strictly: a bad value is a 422 naming the field, as for our own formats. Pure."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from shared.errors import BadRequest, Invalid
from shared.wire import decode_strict

_FIELD = re.compile(r"at `\$\.?([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")


def invalid(exc: msgspec.ValidationError) -> Invalid:
    """msgspec's refusal as our 422, naming the missing or wrong field (`coords.latitude`, `acc`)."""
    detail = str(exc)
    where = m.group(1) if (m := _FIELD.search(detail)) else None
    if missing := _MISSING.search(detail):  # name the missing field, not the object that lacks it
        where = f"{where}.{missing.group(1)}" if where else missing.group(1)
    return Invalid(detail, field=where or None)


def decode(body: bytes, type_: Any) -> Any:
    try:
        return decode_strict(body, type_)
    except msgspec.ValidationError as exc:
        raise invalid(exc) from exc
    except msgspec.DecodeError as exc:
        raise BadRequest(f"Malformed JSON: {exc}") from exc
