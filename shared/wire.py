"""Building blocks for msgspec Structs on the wire: strict, snake_case, with ranges stated once."""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

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


_strict_decoders: dict[Any, msgspec.json.Decoder | None] = {}


def _strict_decoder(annotation: Any) -> msgspec.json.Decoder | None:
    if annotation not in _strict_decoders:
        try:
            _strict_decoders[annotation] = msgspec.json.Decoder(annotation, strict=True)
        except TypeError:  # not a type msgspec decodes (a raw body read by the handler itself)
            _strict_decoders[annotation] = None
    return _strict_decoders[annotation]


async def check_body_strictly(request: Request) -> None:
    """Litestar converts JSON bodies with msgspec's lax rules: "48" would become 48.0 and 1700000000 a
    date. Our contract makes a wrong type a 422 naming the field, so the body is first decoded strictly
    against the handler's own type (the answer, on success, is Litestar's, which then agrees). An empty
    body where one is required is malformed (400), not a missing Python argument."""
    field = request.route_handler.parsed_data_field
    if field is None:
        return
    body = await request.body()  # Litestar keeps it for the handler
    if not body.strip():
        if field.is_optional:
            return
        raise ValidationException(detail="Malformed JSON: the body is empty; a JSON document is required")
    decoder = _strict_decoder(field.annotation)
    if decoder is None:
        return
    try:
        document = decoder.decode(body)
        if body.count(b"[") + body.count(b"{") > 500:  # what Litestar will decode next may nest too deep
            msgspec.json.decode(body)
    except msgspec.ValidationError as exc:
        raise ValidationException(detail=str(exc)) from exc
    except msgspec.DecodeError:
        return  # malformed: Litestar's own decoding answers 400, as for any other body
    except RecursionError as exc:  # a thousand nested brackets exhaust the decoder's stack
        raise ValidationException(detail="Malformed JSON: nested too deeply") from exc
    if b"\\u0000" in body and (where := _nul_path(msgspec.to_builtins(document))) is not None:
        # PostgreSQL text cannot hold it: refused here rather than failing in the database.
        raise Invalid("text may not contain the NUL character (\\u0000)", field=where)


def _nul_path(value: Any, path: str = "") -> str | None:
    """Where in a decoded document a string holds a NUL character, as a field path (`a.b[2]`)."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if (found := _nul_path(item, f"{path}.{key}" if path else key)) is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            if (found := _nul_path(item, f"{path}[{i}]")) is not None:
                return found
    return None
