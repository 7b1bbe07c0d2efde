"""The OpenAPI document finished from the handlers: ids, errors, security, links, and Allow."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar, get, post, put
from litestar.di import Provide
from litestar.params import JSONBody
from litestar.testing import TestClient

from shared.allow import with_options
from shared.auth import Caller
from shared.errors import errors
from shared.openapi import ExactOpenAPIConfig, exactly_one_of
from shared.wire import ID_PATTERN, Answer, Body, PathId


class Registered(Answer):
    device_id: str
    token: str


class Thing(Answer):
    thing_id: str
    count: int = 0


class Shape(Body):
    circle: int | None = None
    polygon: int | None = None


@post("/v1/devices", exclude_from_auth=True, status_code=201, sync_to_thread=False)
def register() -> Registered:
    return Registered(device_id="d", token="t")


@get("/v1/devices/{device_id:str}/things", responses=errors(409))
async def things(device_id: PathId, principal: Caller) -> list[Thing]:
    return []


@put("/v1/devices/{device_id:str}/things/{thing_id:str}", opt=exactly_one_of("circle", "polygon"))
async def put_thing(device_id: PathId, thing_id: PathId, data: JSONBody[Shape]) -> Thing:
    return Thing(thing_id=thing_id)


@get("/v1/devices/{device_id:str}/things/{thing_id:str}", sync_to_thread=False)
def get_thing(device_id: PathId, thing_id: PathId) -> Thing:
    return Thing(thing_id=thing_id)


HANDLERS = [register, things, put_thing, get_thing]
NOBODY = {"principal": Provide(lambda: None, sync_to_thread=False)}


def document() -> dict[str, Any]:
    app = Litestar(
        route_handlers=with_options(HANDLERS),
        openapi_config=ExactOpenAPIConfig(title="t", version="1", path="/schema", handlers=HANDLERS),
        dependencies=NOBODY,
    )
    with TestClient(app) as client:
        return msgspec.json.decode(client.get("/schema/openapi.json").content)


def test_a_path_id_states_the_id_rule() -> None:
    parameters = document()["paths"]["/v1/devices/{device_id}/things"]["get"]["parameters"]
    schema = next(p["schema"] for p in parameters if p["name"] == "device_id")
    assert (schema["pattern"], schema["minLength"], schema["maxLength"]) == (ID_PATTERN, 1, 64)


def test_each_call_lists_the_errors_its_shape_makes_possible_and_those_it_declares() -> None:
    paths = document()["paths"]
    answers = {(path, method): sorted(op["responses"]) for path, item in paths.items() for method, op in item.items()}
    assert answers == {
        ("/v1/devices", "post"): ["201"],  # public, no parameter, no body, no database
        ("/v1/devices/{device_id}/things", "get"): ["200", "401", "403", "404", "409", "422", "503"],
        ("/v1/devices/{device_id}/things/{thing_id}", "put"): ["200", "400", "401", "404", "413", "422", "503"],
        ("/v1/devices/{device_id}/things/{thing_id}", "get"): ["200", "401", "404", "422"],
    }
    error = paths["/v1/devices/{device_id}/things"]["get"]["responses"]["409"]
    assert error["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}


def test_public_calls_need_no_token_the_others_a_bearer_one() -> None:
    doc = document()
    assert doc["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    assert doc["paths"]["/v1/devices"]["post"]["security"] == []
    assert "security" not in doc["paths"]["/v1/devices/{device_id}/things"]["get"]


def test_a_registration_links_to_the_calls_taking_its_id_with_its_token() -> None:
    links = document()["paths"]["/v1/devices"]["post"]["responses"]["201"]["links"]
    assert sorted(link["parameters"]["path.device_id"] for link in links.values()) == ["$response.body#/device_id"] * 3
    assert {link["parameters"]["header.Authorization"] for link in links.values()} == {"Bearer {$response.body#/token}"}


def test_a_rule_between_two_fields_is_stated_on_the_body() -> None:
    body = document()["paths"]["/v1/devices/{device_id}/things/{thing_id}"]["put"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["allOf"][0] == {"$ref": "#/components/schemas/Shape"}
    assert [branch["required"] for branch in schema["allOf"][1]["oneOf"]] == [["circle"], ["polygon"]]


def test_options_answers_every_method_of_the_path() -> None:
    app = Litestar(route_handlers=with_options(HANDLERS), dependencies=NOBODY)
    with TestClient(app) as client:
        r = client.options("/v1/devices/d/things/t")
    assert r.status_code == 204 and r.headers["allow"] == "GET, OPTIONS, PUT"
