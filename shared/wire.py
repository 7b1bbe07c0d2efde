"""Building blocks for msgspec Structs on the wire: strict, snake_case, with ranges stated once."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.params import Parameter

from shared.errors import Invalid

# One pattern for the documents and the checks: read as JSON Schema reads it (ECMA-262) and as Python
# reads it, it means the same. END is for Python, whose `$` also matches before a final newline: every
# pattern a whole value must follow ends with it ("ord_x\n" is no id).
END = r"(?!\n)$"
ID = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"
ID_PATTERN = rf"^{ID}{END}"
ID_RULE = "1-64 characters: letters, digits and . _ : - (a letter or digit first)"
_ID_RE = re.compile(ID)
MAX_ID = 2**63 - 1  # numeric ids are bigint

Id = Annotated[str, msgspec.Meta(pattern=ID_PATTERN, min_length=1, max_length=64, description=ID_RULE)]
Lat = Annotated[float, msgspec.Meta(ge=-90, le=90, description="WGS84 latitude, degrees")]
Lng = Annotated[float, msgspec.Meta(ge=-180, le=180, description="WGS84 longitude, degrees")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
TIME_ZONE = "time-zone"
"""The `format` of a time zone name; the OpenAPI document lists the names this server knows (shared.openapi)."""
Timezone = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        description="An IANA time zone, e.g. Europe/Paris",
        extra_json_schema={"format": TIME_ZONE},
    ),
]
LOCALE_PATTERN = rf"^[a-z]{{2,3}}(-[A-Za-z0-9]{{2,8}})*{END}"
Locale = Annotated[str, msgspec.Meta(pattern=LOCALE_PATTERN, max_length=35)]


class Body(msgspec.Struct, kw_only=True):
    """Base of every request body. Unknown fields are ignored, so an app built against a newer
    version of the contract keeps working; every known field is checked strictly."""


class Answer(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of every response body."""


# Path and query parameters: the same rule as ids in bodies, checked by Litestar before the handler
# runs (a 422 naming the parameter) and stated in the OpenAPI document.
PathId = Annotated[str, Parameter(pattern=ID_PATTERN, min_length=1, max_length=64, description=ID_RULE)]
QueryId = Annotated[str | None, Parameter(pattern=ID_PATTERN, min_length=1, max_length=64, description=ID_RULE)]
NumericId = Annotated[int, Parameter(ge=1, le=MAX_ID)]
Cursor = Annotated[int, Parameter(ge=0, le=MAX_ID, description="the last id seen; 0: from the start")]


def comma_separated(item: str, *, at_least_one: bool) -> str:
    """The pattern of a comma-separated list read as our handlers read one: items stripped of spaces,
    empty ones skipped. `item` is a regular expression without anchors."""
    some = r"(?=[\s,]*[^\s,])" if at_least_one else ""
    return rf"^{some}\s*(?:{item})?\s*(?:,\s*(?:{item})?\s*)*$"


def one_of(values: Iterable[str]) -> str:
    """A regular expression matching exactly one of `values` (no anchors)."""
    return "|".join(re.escape(value) for value in values)


def check_id(value: str, field: str) -> str:
    """Ids read from elsewhere than a parameter or a body field (an import row) get the same rule."""
    if not _ID_RE.fullmatch(value):
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


def decode_strict(body: bytes, annotation: Any, decoder: msgspec.json.Decoder[Any] | None = None) -> Any:
    """A JSON document decoded strictly into `annotation`: "48" is no number and 1700000000 no date.

    JSON has one kind of number, and JSON Schema reads 2.0 as the integer 2: a client may write a whole
    number either way. msgspec's strict mode refuses a float for an int, so a document it refuses for
    that is read again with its whole numbers as integers (only then: the common case stays one pass)."""
    try:
        return (decoder or msgspec.json.Decoder(annotation, strict=True)).decode(body)
    except msgspec.ValidationError as exc:
        if "got `float`" not in str(exc):
            raise
    return msgspec.convert(whole_numbers(msgspec.json.decode(body)), annotation, strict=True)


def whole_numbers(value: Any) -> Any:
    """A decoded document with its whole floats (2.0) as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [whole_numbers(item) for item in value]
    return value


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
            document = decode_strict(body, field.annotation, decoder)
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
