"""/openapi.json describes every route in valid OpenAPI 3.1; /docs/ works with no network."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator
from pydantic import BaseModel
from werkzeug.test import TestResponse

from bootstrap import Context
from intake.admin.api_models import AdminOrder, Movements, ProductWithStock, StockRow, Warehouses
from intake.api_models import OrderView, Problem
from intake.auth import STAFF_READ, STAFF_WRITE
from intake.openapi.document import REF, openapi_path
from intake.openapi.events import WebhookEvent
from intake.problems import PROBLEM_JSON
from models.domain.webhooks import EVENT_TYPES
from models.services.place import order_token
from models.tables.catalog import Warehouse
from tests.factories import NEWARK, add_product, add_warehouse
from tests.integration.hold_support import allocated, staff, stocked
from tests.integration.openapi_support import routes_document
from tests.integration.tracking_support import shipped_order
from tests.integration.webhook_support import SECRET, deliveries_of, run_deliveries, subscribed
from tests.webhook_receiver import receiver

pytest_plugins = ["tests.admin_fixtures"]

# Routes that are no operation of the API: the document itself, its docs page, static files.
NOT_OPERATIONS = {"/openapi.json", "/docs/", "/docs/{path}", "/static/{filename}"}


def test_the_served_document_is_valid_openapi_3_1_and_the_one_the_tests_fuzz(
    client: FlaskClient,
) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    document = response.get_json()
    validate(document, cls=OpenAPIV31SpecValidator)
    assert document["openapi"] == "3.1.0"
    assert document == routes_document()


def test_every_route_and_method_is_an_operation_of_the_document(app: Flask) -> None:
    paths = routes_document()["paths"]
    routes = {
        (openapi_path(rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }

    documented = {(path, method) for path, item in paths.items() for method in item}
    assert {route for route in routes if route[0] not in NOT_OPERATIONS} == documented


def test_every_operation_answers_its_refusals_as_problem_documents() -> None:
    for path, item in routes_document()["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            refusals = [status for status in responses if status[0] in "45"]
            assert {"400", "503"} <= set(refusals), (method, path)
            for status in refusals:
                schema = responses[status]["content"][PROBLEM_JSON]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, status)


def test_staff_operations_name_the_role_their_method_needs() -> None:
    for path, item in routes_document()["paths"].items():
        for method, operation in item.items():
            if path.startswith("/admin"):
                role = STAFF_READ if method == "get" else STAFF_WRITE
                assert operation["security"] == [{"staffToken": [role]}], (method, path)
                assert {"401", "403", "429"} <= set(operation["responses"]), (method, path)


def test_the_docs_page_and_every_asset_it_loads_are_served_by_the_app(
    client: FlaskClient,
) -> None:
    page = client.get("/docs/")
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)

    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert client.get("/docs").status_code == 308
    assert '"url": "/openapi.json"' in html
    assert {"/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"} <= set(assets)
    for asset in assets:
        assert asset.startswith("/docs/"), asset  # nothing from another host
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.data) > 100, asset
    # The one absolute URL is Swagger UI's OAuth redirect, back to this very page.
    assert set(re.findall(r"https?://[^/\"]+", html)) == {"http://localhost"}


def _valid(model: type[BaseModel], response: TestResponse) -> None:
    assert response.status_code in (200, 201), response.get_data()
    model.model_validate(response.get_json())


def test_answers_about_a_shipped_order_hold_every_field_the_models_describe(
    client: FlaskClient, context: Context, admin_headers: dict[str, str]
) -> None:
    number = add_product(context.sessions)
    warehouse_id = add_warehouse(
        context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={number: 5}
    )
    order_id = shipped_order(client, context, [(number, 2)])
    token = order_token(context.settings.order_token_secret.get_secret_value(), order_id)
    with context.sessions() as session:
        shelf = f"/admin/stock/{session.get_one(Warehouse, warehouse_id).code}/{number}"
    admin = {"headers": admin_headers}

    _valid(
        OrderView, client.get(f"/orders/{order_id}", headers={"Authorization": f"Bearer {token}"})
    )
    _valid(AdminOrder, client.get(f"/admin/orders/{order_id}", **admin))
    _valid(StockRow, client.put(shelf, json={"on_hand": 9, "reason": "counted"}, **admin))
    _valid(Movements, client.get(f"{shelf}/movements", **admin))
    _valid(ProductWithStock, client.get(f"/admin/products/{number}", **admin))
    _valid(Warehouses, client.get("/admin/warehouses", **admin))
    Problem.model_validate(client.get(f"/orders/{uuid.uuid4()}", **admin).get_json())


def _held_and_released(client: FlaskClient, context: Context) -> uuid.UUID:
    """An allocated order staff hold and release through the API."""
    order_id = allocated(client, context, stocked(context)[0])
    for action in ("hold", "hold/release"):
        answer = client.post(f"/orders/{order_id}/{action}", headers=staff(context))
        assert answer.status_code == 202, answer.get_json()
    return order_id


def test_the_webhook_a_shop_receives_is_the_one_the_document_describes(
    client: FlaskClient, context: Context
) -> None:
    document = routes_document()
    hook = document["webhooks"]["orderEvent"]["post"]
    body_schema = hook["requestBody"]["content"]["application/json"]["schema"]
    described = document["components"]["schemas"]["WebhookEvent"]
    headers = {p["name"]: p for p in hook["parameters"] if p["in"] == "header"}
    with receiver() as (url, script), subscribed(context, url):
        order_id = _held_and_released(client, context)
        run_deliveries(context, *(d.id for d in deliveries_of(context.work.sessions, order_id)))

    received = script.successes()
    assert {"order.held", "order.released"} <= {json.loads(r.body)["type"] for r in received}
    # The body's schema is the model's: each body the model takes, the document describes.
    assert body_schema == {"$ref": "#/components/schemas/WebhookEvent"}
    model_schema = WebhookEvent.model_json_schema(ref_template=REF)
    assert described == {k: v for k, v in model_schema.items() if k != "$defs"}
    assert described["properties"]["type"]["enum"] == list(EVENT_TYPES)
    for sent in received:
        event = WebhookEvent.model_validate_json(sent.body)
        assert event.type in EVENT_TYPES
        for name in ("Webhook-Id", "Webhook-Signature"):
            assert re.match(headers[name]["schema"]["pattern"], sent.headers[name]), name
        # The recipe the document gives: HMAC-SHA256 over "{t}.{body}" under the secret.
        assert "`{t}.{body}`" in headers["Webhook-Signature"]["description"]
        t, v1 = (part.split("=", 1)[1] for part in sent.headers["Webhook-Signature"].split(","))
        signed = f"{t}.".encode() + sent.body
        assert v1 == hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
