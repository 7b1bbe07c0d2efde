"""Each service's OpenAPI document, exact: what a client generator or a fuzzer reads from it is what the
server does.

Litestar writes the document from the handlers; `ExactOpenAPIConfig` finishes it once, the first time
it is asked for:

- request bodies and answers are described by msgspec from the very types that decode and encode
  them: every constraint is there, integers stay integers, an optional field is its type or null;
- parameters likewise, from their annotations (shared.wire's `PathId`, `Parameter(ge=..., le=...)`);
- text in a JSON body never holds NUL (StrictRequest refuses it), and the document says so;
- security: a bearer token, but on the public calls (`exclude_from_auth`) and those naming their own;
- every status a call answers is listed: its success codes, the errors its shape makes possible
  (`_implied_errors`), and those it declares itself (`responses=errors(409, 502)` on its decorator);
- links: the answer of a call that changes something (not a GET) carrying an id feeds the calls of
  the same service taking that id as a path parameter; when it carries a `token` too (a device
  registration, a new staff member), those calls are made with that token, so a stateful client goes
  on as that device or staff member.

It serves that document alone, at `/schema/openapi.json`, and no documentation UI: Litestar's UIs load
their scripts from CDNs, and on notify's origin the staff and shopper pages keep their tokens. Anything
else under `/schema` is a 404.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Annotated, Any, Union, get_args, get_origin
from zoneinfo import available_timezones

import msgspec
from litestar import Router
from litestar.connection import ASGIConnection
from litestar.constants import OPENAPI_JSON_HANDLER_NAME
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import OpenAPI
from litestar.params import ParameterKwarg
from litestar.response import Response
from litestar.typing import FieldDefinition

from shared.auth import Principal
from shared.errors import ERRORS, ErrorBody, NotFound
from shared.wire import TIME_ZONE

REF = "#/components/schemas/{name}"
NO_NUL = "^[^\x00]*$"
_PATH_PARAMETER = re.compile(r"\{(\w+):[^}]*\}")
_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of", "pattern", "min_length", "max_length", "description")
_SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer"}, "basic": {"type": "http", "scheme": "basic"}}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
_ERROR_HEADERS = {429: _RETRY_AFTER, 503: _RETRY_AFTER}


@dataclass(frozen=True)
class RawBody:
    """A body its handler reads itself (`request.body()`), described for the document: media type ->
    a msgspec type, or a JSON Schema in which `{"$ref": SomeStruct}` names a type."""

    content: Mapping[str, Any]
    required: bool = True


def raw_body(content: Mapping[str, Any], *, required: bool = True) -> dict[str, Any]:
    """For the `opt` of a handler that reads its body itself: `opt=raw_body({"text/csv": {...}})`."""
    return {"raw_body": RawBody(content, required)}


def exactly_one_of(first: str, second: str, *, within: str | None = None) -> dict[str, Any]:
    """For the `opt` of a handler that refuses a body (or each item of its list `within`) without
    exactly one of two fields set (not null): `opt=exactly_one_of("circle", "polygon")`."""

    def only(name: str, other: str) -> dict[str, Any]:
        return {"required": [name], "properties": {name: {"not": {"type": "null"}}, other: {"type": "null"}}}

    rule: dict[str, Any] = {"oneOf": [only(first, second), only(second, first)]}
    if within is not None:
        rule = {"properties": {within: {"items": rule}}}
    return {"body_rule": rule}


@dataclass
class ExactOpenAPIConfig(OpenAPIConfig):
    """Litestar's configuration, whose document is finished by `finish` with the app's handlers."""

    handlers: Sequence[Any] = ()

    def __post_init__(self) -> None:
        self.render_plugins = [JsonRenderPlugin()]
        self.openapi_router = Router(
            self.path or "/schema",
            route_handlers=[],
            guards=[_the_document_only],
            include_in_schema=False,
            dto=None,
            return_dto=None,
        )
        super().__post_init__()
        self.default_plugin = None  # nothing at `/schema` itself

    def to_openapi_schema(self) -> OpenAPI:
        base = super().to_openapi_schema()
        return _FinishedOpenAPI(**{f.name: getattr(base, f.name) for f in fields(base)}, handlers=self.handlers)


def _the_document_only(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Litestar answers any other path under `/schema` with an HTML page of its own: ours is the JSON
    404 of every other unknown path."""
    if handler.name != OPENAPI_JSON_HANDLER_NAME:
        raise NotFound(f"no such document {connection.url.path!r}: the OpenAPI document is openapi.json")


@dataclass
class _FinishedOpenAPI(OpenAPI):
    handlers: Sequence[Any] = field(default=(), repr=False)

    @property
    def _exclude_fields(self) -> set[str]:
        return {"handlers"}

    def to_schema(self) -> dict[str, Any]:
        return finish(super().to_schema(), self.handlers)


@dataclass(frozen=True)
class _Operation:
    path: str
    method: str
    handler: HTTPRouteHandler
    spec: dict[str, Any]  # the operation object, in the document

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    @property
    def is_public(self) -> bool:
        return self.spec.get("security") == []


def finish(document: dict[str, Any], handlers: Sequence[Any]) -> dict[str, Any]:
    operations = list(_operations(document, handlers))
    types = _Types()
    for op in operations:
        _describe_parameters(op)
        _describe_body(op, types)
        _describe_answers(op, types)
        _describe_security(op)
        _describe_errors(op)
    schemas = {**document.get("components", {}).get("schemas", {}), **types.components()}
    for op in operations:
        for part in ("requestBody", "responses"):
            if part in op.spec:
                op.spec[part] = types.resolve(op.spec[part])
    # StrictRequest refuses NUL in the bodies it decodes (not in those a handler reads itself).
    decoded = [op.spec["requestBody"] for op in operations if op.handler.parsed_data_field and "requestBody" in op.spec]
    for schema in [*decoded, *_referenced(decoded, schemas).values()]:
        _forbid_nul(schema)
        _name_time_zones(schema)
    for op in operations:
        _link(op, operations, schemas)
    document["components"] = {
        **document.get("components", {}),
        "schemas": _referenced(document["paths"], schemas),
        "securitySchemes": {
            name: scheme for name, scheme in _SECURITY_SCHEMES.items() if name == "bearer" or _uses(operations, name)
        },
    }
    document["security"] = [{"bearer": []}]
    return document


def _operations(document: dict[str, Any], handlers: Sequence[Any]) -> Iterator[_Operation]:
    """Each operation of the document with the handler behind it (a path as the document writes it:
    `{store_id}` for the handler's `{store_id:str}`)."""
    for handler in handlers:
        if not isinstance(handler, HTTPRouteHandler):
            continue
        for path in (_PATH_PARAMETER.sub(r"{\1}", path) for path in handler.paths):
            for method in handler.http_methods:
                if (spec := document["paths"].get(path, {}).get(method.lower())) is not None:
                    yield _Operation(path, method.lower(), handler, spec)


class _Types:
    """The msgspec types the document describes, turned into schemas together (one component each)."""

    def __init__(self) -> None:
        self._types: list[Any] = [ErrorBody]
        self._schemas: dict[Any, dict[str, Any]] | None = None

    def ref(self, type_: Any) -> dict[str, Any]:
        """A placeholder filled in by `components()` (a type is described once all are known)."""
        self._types.append(type_)
        return {"$type": type_}

    def components(self) -> dict[str, Any]:
        types = list(dict.fromkeys(self._types))
        described, components = msgspec.json.schema_components(types, ref_template=REF)
        self._schemas = dict(zip(types, described, strict=True))
        return components

    def resolve(self, schema: Any) -> Any:
        """`schema` with its placeholders replaced by the types' schemas."""
        assert self._schemas is not None
        if isinstance(schema, dict):
            if "$type" in schema:
                return self._schemas[schema["$type"]]
            if isinstance(schema.get("$ref"), type):
                return self._schemas[schema["$ref"]]
            return {key: self.resolve(value) for key, value in schema.items()}
        if isinstance(schema, list):
            return [self.resolve(item) for item in schema]
        return schema

    @staticmethod
    def describable(type_: Any) -> bool:
        try:
            msgspec.json.schema(type_)
        except (TypeError, ValueError):
            return False
        return True


def _describe_parameters(op: _Operation) -> None:
    by_name: dict[str, FieldDefinition] = {}
    for name, definition in op.handler.parsed_fn_signature.parameters.items():
        kwarg = definition.kwarg_definition
        by_name[kwarg.name if isinstance(kwarg, ParameterKwarg) and kwarg.name else name] = definition
    for parameter in op.spec.get("parameters", []):
        if (found := by_name.get(parameter["name"])) is None:
            continue
        parameter["schema"] = schema = _parameter_schema(found)
        _forbid_nul(schema)
        if "description" in schema:
            parameter["description"] = schema["description"]


def _parameter_schema(definition: FieldDefinition) -> dict[str, Any]:
    kwarg = definition.kwarg_definition if isinstance(definition.kwarg_definition, ParameterKwarg) else None
    annotation = _without_none(definition.annotation)
    meta = {name: value for name in _CONSTRAINTS if kwarg is not None and (value := getattr(kwarg, name)) is not None}
    schema: dict[str, Any] = msgspec.json.schema(Annotated[annotation, msgspec.Meta(**meta)] if meta else annotation)
    if definition.has_default and definition.default is not None:
        schema["default"] = msgspec.to_builtins(definition.default)
    if kwarg is not None and kwarg.schema_extra:
        schema.update(kwarg.schema_extra)
    if definition.is_optional and _reads_null(definition.annotation):
        schema = {
            "anyOf": [schema, {"type": "null"}],
            **({"default": schema.pop("default")} if "default" in schema else {}),
        }
    return schema


def _reads_null(annotation: Any) -> bool:
    """Litestar reads an optional parameter's text "null" as None, unless a string may be "null" itself."""
    try:
        return msgspec.convert("null", annotation, strict=False) is None
    except msgspec.ValidationError:
        return False


def _without_none(annotation: Any) -> Any:
    args = get_args(annotation)
    if get_origin(annotation) is Union or type(annotation).__name__ == "UnionType":
        kept = tuple(arg for arg in args if arg is not type(None))
        return kept[0] if len(kept) == 1 else Union[kept]  # noqa: UP007 (a tuple of types)
    return annotation


def _describe_body(op: _Operation, types: _Types) -> None:
    data = op.handler.parsed_data_field
    raw: RawBody | None = op.handler.opt.get("raw_body")
    if data is not None and types.describable(data.annotation):
        content = {"application/json": types.ref(data.annotation)}
        required = not data.is_optional
    elif raw is not None:
        content = {
            media: types.ref(source) if not isinstance(source, dict) else _types_in(source, types)
            for media, source in raw.content.items()
        }
        required = raw.required
    else:
        return
    if (rule := op.handler.opt.get("body_rule")) is not None:
        content = {media: {"allOf": [schema, rule]} for media, schema in content.items()}
    op.spec["requestBody"] = {
        **op.spec.get("requestBody", {}),
        "content": {media: {"schema": schema} for media, schema in content.items()},
        "required": required,
    }


def _types_in(schema: Any, types: _Types) -> Any:
    """A hand-written schema whose `{"$ref": SomeType}` are noted as types to describe."""
    if isinstance(schema, dict):
        if isinstance(schema.get("$ref"), type):
            return types.ref(schema["$ref"])
        return {key: _types_in(value, types) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_types_in(item, types) for item in schema]
    return schema


def _answer_type(handler: HTTPRouteHandler, status: int) -> Any:
    declared = (handler.responses or {}).get(status)
    if declared is not None and declared.data_container is not None:
        return declared.data_container
    annotation = handler.parsed_fn_signature.return_type.annotation
    origin = get_origin(annotation)
    if inspect.isclass(origin) and issubclass(origin, Response):
        return get_args(annotation)[0]
    return annotation


def _describe_answers(op: _Operation, types: _Types) -> None:
    for status, answer in op.spec.get("responses", {}).items():
        if not status.startswith("2") or "content" not in answer:
            continue
        type_ = _answer_type(op.handler, int(status))
        if types.describable(type_):
            answer["content"] = {"application/json": {"schema": types.ref(type_)}}


def _describe_security(op: _Operation) -> None:
    if op.handler.security:
        op.spec["security"] = [dict(requirement) for requirement in op.handler.security]
    elif op.handler.opt.get("exclude_from_auth"):
        op.spec["security"] = []


def _uses(operations: list[_Operation], scheme: str) -> bool:
    return any(scheme in requirement for op in operations for requirement in op.spec.get("security", []))


def _takes_the_caller(handler: HTTPRouteHandler) -> bool:
    """A handler given who calls (`principal`, or the request typed with its Principal) is so to check it."""
    return any(
        name == "principal" or Principal in get_args(definition.annotation)
        for name, definition in handler.parsed_fn_signature.parameters.items()
    )


def _implied_errors(op: _Operation) -> set[int]:
    """The shared error answers a call's shape makes possible."""
    codes = set()
    body = "requestBody" in op.spec
    if body:
        codes |= {400, 413}  # malformed JSON; over the body size limit
    if not op.is_public:
        codes.add(401)
        if _takes_the_caller(op.handler):
            codes.add(403)
    if op.path_parameters:
        codes.add(404)
    if body or op.spec.get("parameters"):
        codes.add(422)
    if inspect.iscoroutinefunction(op.handler.fn):  # a handler that awaits nothing touches no database
        codes.add(503)
    return codes


def _describe_errors(op: _Operation) -> None:
    declared = {status for status in (op.handler.responses or {}) if status >= 400}
    answers = op.spec.setdefault("responses", {})
    for status in [s for s in answers if int(s) >= 400]:
        del answers[status]
    for status in sorted(declared | _implied_errors(op)):
        answer: dict[str, Any] = {
            "description": ERRORS[status],
            "content": {"application/json": {"schema": {"$ref": REF.format(name=ErrorBody.__name__)}}},
        }
        if headers := _ERROR_HEADERS.get(status):
            answer["headers"] = headers
        if status == 401 and any("basic" in requirement for requirement in op.spec.get("security", [])):
            answer["headers"] = {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}}
        answers[str(status)] = answer


def _forbid_nul(schema: Any) -> None:
    """Every free text (a string without a pattern, format or set of values) says it holds no NUL."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and not schema.keys() & {"pattern", "format", "enum", "const"}:
            schema["pattern"] = NO_NUL
        for value in schema.values():
            _forbid_nul(value)
    elif isinstance(schema, list):
        for item in schema:
            _forbid_nul(item)


def _name_time_zones(schema: Any) -> None:
    """The time zones this server knows (its tz database), where a body takes one."""
    if isinstance(schema, dict):
        if schema.get("format") == TIME_ZONE:
            schema["enum"] = sorted(available_timezones())
        for value in schema.values():
            _name_time_zones(value)
    elif isinstance(schema, list):
        for item in schema:
            _name_time_zones(item)


def _properties(schema: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    if (ref := schema.get("$ref")) is not None:
        schema = schemas.get(ref.rsplit("/", 1)[-1], {})
    return set(schema.get("properties", {}))


def _link(source: _Operation, operations: list[_Operation], schemas: dict[str, Any]) -> None:
    """Links from what a call that changes something answers to the calls taking its ids."""
    if source.method == "get":
        return
    for status, answer in source.spec["responses"].items():
        if not status.startswith("2") or "application/json" not in answer.get("content", {}):
            continue
        fields_ = _properties(answer["content"]["application/json"]["schema"], schemas)
        links = {}
        for target in operations:
            ids = [name for name in target.path_parameters if name in fields_]
            if not ids or (target.path, target.method) == (source.path, source.method):
                continue
            parameters = {f"path.{name}": f"$response.body#/{name}" for name in ids}
            if "token" in fields_ and not target.is_public:
                parameters["header.Authorization"] = "Bearer {$response.body#/token}"
            links[target.spec["operationId"]] = {"operationId": target.spec["operationId"], "parameters": parameters}
        if links:
            answer["links"] = links


def _referenced(start: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """The components reachable from `start`, in name order."""
    seen: set[str] = set()
    pending = [start]
    while pending:
        for ref in re.findall(r"#/components/schemas/([^\"']+)", repr(pending.pop())):
            if ref not in seen and ref in schemas:
                seen.add(ref)
                pending.append(schemas[ref])
    return {name: schemas[name] for name in sorted(seen)}
