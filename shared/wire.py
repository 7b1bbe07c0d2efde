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


_strict_decoders: dict[Any, msgspec.json.Decoder[Any] | None] = {}


def _strict_decoder(annotation: Any) -> msgspec.json.Decoder[Any] | None:
    if annotation not in _strict_decoders:
        try:
            _strict_decoders[annotation] = msgspec.json.Decoder(annotation, strict=True)
        except TypeError:  # not a type msgspec decodes (a raw body read by the handler itself)
            _strict_decoders[annotation] = None
    return _strict_decoders[annotation]


class StrictRequest(Request[Any, Any, Any]):
    """The request class of every service: JSON bodies are decoded once, strictly, into the handler's
    own type.

    Litestar alone decodes a body into plain objects and converts those with msgspec's lax rules:
    "48" would become 48.0 and 1700000000 a date. Our contract makes a wrong type a 422 naming the
    field. Decoding strictly here, straight into the type, is that check and the decoding in one pass
    (the conversion Litestar still runs finds the value already of its type)."""

    async def json(self) -> Any:
        field = self.route_handler.parsed_data_field
        decoder = _strict_decoder(field.annotation) if field is not None else None
        if field is None or decoder is None:  # no body, or a type of the handler's own reading
            return await super().json()
        body = await self.body()
        if not body.strip():
            return None  # an optional body left out (a required one was refused before: refuse_empty_body)
        try:
            document = decoder.decode(body)
        except msgspec.ValidationError as exc:
            raise ValidationException(detail=str(exc)) from exc
        except msgspec.DecodeError:  # malformed: Litestar's own decoding answers 400, as for any other body
            return await self._decoded_by_litestar()
        except RecursionError as exc:  # a thousand nested brackets exhaust the decoder's stack
            raise _too_deep() from exc
        if b"\\u0000" in body and (where := _nul_path(msgspec.to_builtins(document))) is not None:
            # PostgreSQL text cannot hold it: refused here rather than failing in the database.
            raise Invalid("text may not contain the NUL character (\\u0000)", field=where)
        return document

    async def _decoded_by_litestar(self) -> Any:
        try:
            return await super().json()
        except RecursionError as exc:
            raise _too_deep() from exc


def _too_deep() -> ValidationException:
    return ValidationException(detail="Malformed JSON: nested too deeply")


async def refuse_empty_body(request: Request[Any, Any, Any]) -> None:
    """An empty body where one is required is malformed (400), not a missing argument (Litestar never
    asks StrictRequest.json of an empty body)."""
    field = request.route_handler.parsed_data_field
    if field is not None and not field.is_optional and not (await request.body()).strip():
        raise ValidationException(detail="Malformed JSON: the body is empty; a JSON document is required")


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
