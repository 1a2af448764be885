"""The OpenAPI 3.1 document of an app: every declared view, its schemas from pydantic."""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from flask import Flask
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from werkzeug.routing import Rule

from intake import api_models
from intake.auth import READING, STAFF_READ, STAFF_WRITE
from intake.openapi.declare import Content, Operation, Reply, declared
from intake.openapi.events import WebhookEvent, webhooks_section
from intake.openapi.parts import (
    INFO,
    PROBLEM_HEADERS,
    PROBLEMS,
    RESPONSE_HEADERS,
    SECURITY_SCHEMES,
)
from intake.problems import PROBLEM_JSON

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
# <name>, <int:name>, <int(max=9):name>: a Flask rule's parameters and their converters.
PARAMETER = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
ALWAYS = (400, 503)  # a refused URL or header; an unexpected failure
Route = tuple[Rule, str, Operation]
Refs = dict[tuple[Any, JsonSchemaMode], dict[str, Any]]


def build(app: Flask) -> dict[str, Any]:
    """The document of every view of `app` that declares itself."""
    routes = list(declared_routes(app))
    refs, schemas = _schemas(routes)
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, op in routes:
        view = app.view_functions[rule.endpoint]
        paths.setdefault(openapi_path(rule), {})[method.lower()] = {
            **_texts(view, rule.endpoint, method),
            **_operation(rule, method, op, refs, schemas),
        }
    document = {
        "openapi": OPENAPI_VERSION,
        "info": INFO,
        "paths": paths,
        "webhooks": webhooks_section(refs[(WebhookEvent, "validation")]),
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }
    # Parts are shared between operations and with the module: each document owns its own.
    return copy.deepcopy(document)


def declared_routes(app: Flask) -> Iterator[Route]:
    """(rule, method, declaration) of each view that declares itself, by path."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op = declared(app.view_functions[rule.endpoint])
        if op is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method, op


def openapi_path(rule: Rule) -> str:
    """`/orders/<order_id>` as `/orders/{order_id}`."""
    return PARAMETER.sub(lambda m: "{" + m["name"] + "}", rule.rule)


def _schemas(routes: list[Route]) -> tuple[Refs, dict[str, Any]]:
    wanted: set[tuple[type[BaseModel], JsonSchemaMode]] = {
        (api_models.Problem, "serialization"),
        (WebhookEvent, "validation"),
    }
    for _, _, op in routes:
        for model in (op.body, op.query):
            if isinstance(model, type):
                wanted.add((model, "validation"))
        for reply in op.replies.values():
            if isinstance(reply.body, type):
                wanted.add((reply.body, "serialization"))
    ordered = sorted(wanted, key=lambda item: (item[0].__name__, item[1]))
    refs, top = models_json_schema(ordered, ref_template=REF)
    return dict(refs), dict(top.get("$defs", {}))


def _texts(view: Any, endpoint: str, method: str) -> dict[str, Any]:
    summary, _, description = (inspect.getdoc(view) or "").partition("\n")
    texts = {"tags": [endpoint.split(".", maxsplit=1)[0]], "summary": summary.strip()}
    if description.strip():
        texts["description"] = description.strip()
    return {**texts, "operationId": f"{endpoint}.{method.lower()}"}


def _operation(
    rule: Rule, method: str, op: Operation, refs: Refs, schemas: dict[str, Any]
) -> dict[str, Any]:
    document: dict[str, Any] = {"parameters": _parameters(rule, op, refs, schemas)}
    if op.body is not None:
        media, schema = _content(op.body, refs, "validation")
        document["requestBody"] = {"required": True, "content": {media: {"schema": schema}}}
        if isinstance(op.body, Content) and op.body.description:
            document["requestBody"]["description"] = op.body.description
    document["responses"] = _responses(rule, op, refs)
    if op.auth is not None:
        roles = (
            [STAFF_READ if method in READING else STAFF_WRITE] if op.auth.roles_by_method else []
        )
        schemes = (op.auth.scheme, *op.auth.also)
        document["security"] = [{scheme: roles} for scheme in schemes]
        if op.auth.optional:
            document["security"].insert(0, {})
    return document


def _parameters(
    rule: Rule, op: Operation, refs: Refs, schemas: dict[str, Any]
) -> list[dict[str, Any]]:
    parameters = [
        {"name": m["name"], "in": "path", "required": True, "schema": _path_schema(m, op)}
        for m in PARAMETER.finditer(rule.rule)
    ]
    if op.query is not None:
        model = schemas[refs[(op.query, "validation")]["$ref"].rpartition("/")[2]]
        parameters += [
            {
                "name": name,
                "in": "query",
                "required": name in model.get("required", ()),
                "schema": s,
            }
            for name, s in model["properties"].items()
        ]
    parameters += [
        {"name": h.name, "in": "header", "required": h.required, "description": h.description}
        | {"schema": h.schema}
        for h in op.headers
    ]
    return parameters


def _path_schema(match: re.Match[str], op: Operation) -> dict[str, Any]:
    if match["name"] in op.path:
        return TypeAdapter(op.path[match["name"]]).json_schema(ref_template=REF)
    if match["converter"] == "int":
        return {"type": "integer", "minimum": 0}
    return {"type": "string"}


def _content(
    body: type[BaseModel] | Content, refs: Refs, mode: JsonSchemaMode
) -> tuple[str, dict[str, Any]]:
    if isinstance(body, Content):
        return body.media_type, body.schema
    return "application/json", refs[(body, mode)]


def _responses(rule: Rule, op: Operation, refs: Refs) -> dict[str, Any]:
    responses = {str(status): _reply(status, reply, refs) for status, reply in op.replies.items()}
    problem = {"schema": refs[(api_models.Problem, "serialization")]}
    for status in _problem_statuses(rule, op):
        response = responses.setdefault(str(status), {"description": PROBLEMS[status]})
        response.setdefault("content", {})[PROBLEM_JSON] = problem
        if status in PROBLEM_HEADERS:
            response.setdefault("headers", {}).update(PROBLEM_HEADERS[status])
    return dict(sorted(responses.items()))


def _reply(status: int, reply: Reply, refs: Refs) -> dict[str, Any]:
    response: dict[str, Any] = {"description": reply.description or HTTPStatus(status).phrase}
    if reply.body is not None:
        media, schema = _content(reply.body, refs, "serialization")
        response["content"] = {media: {"schema": schema}}
        for other in reply.alternatives:
            response["content"][other.media_type] = {"schema": other.schema}
    if reply.headers:
        response["headers"] = {name: RESPONSE_HEADERS[name] for name in reply.headers}
    return response


def _problem_statuses(rule: Rule, op: Operation) -> list[int]:
    statuses = {*ALWAYS, *op.problems, *(op.auth.problems if op.auth else ())}
    if rule.arguments:
        statuses.add(404)  # no such thing, or a parameter the route cannot match
    if op.body is not None:
        statuses.add(413)
    return sorted(statuses)
