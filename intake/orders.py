"""POST /orders (a guest's, or a customer account's) and GET /orders/<id>."""

from __future__ import annotations

import uuid
from dataclasses import replace

import structlog
from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError

from intake import idempotency, order_page
from intake.access import account, order_for, unauthorized, viewer
from intake.api_models import OrderAccepted, OrderView
from intake.auth import CUSTOMER, bearer_token, forbidden
from intake.bodies import json_body
from intake.openapi import IDEMPOTENCY_KEY, MAYBE_CUSTOMER, ORDER_READER, Reply, operation
from intake.problems import Problem, from_validation_error
from intake.reading import order_view
from intake.runtime import runtime
from intake.schemas import OrderRequest, validate_order
from models.services.place import InvalidOrder, PlacedOrder, order_token, place_order
from telemetry.instruments import order_submitted

bp = Blueprint("orders", __name__)


def _respond(stored: idempotency.StoredResponse, *, replayed: bool) -> Response:
    response = jsonify(stored.body)
    response.status_code = stored.status
    response.headers.update(stored.headers)
    if replayed:
        response.headers[idempotency.REPLAYED_HEADER] = "true"
    order_submitted(replayed=replayed)
    return response


def _owner() -> str | None:
    """The customer account placing the order, or None for a guest (who sends no token)."""
    authorization = request.headers.get("Authorization")
    if authorization is None:
        return None
    token = bearer_token(authorization)
    if token is None:
        raise unauthorized("send 'Bearer <API token>' of a customer account, or nothing")
    who = account(token)
    if CUSTOMER not in who.roles:
        raise forbidden(CUSTOMER)
    return who.subject


@bp.post("/orders")
@operation(
    body=OrderRequest,
    replies={202: Reply(OrderAccepted, headers=("Location", "Idempotent-Replayed"))},
    problems=(409, 415, 422, 429),
    auth=MAYBE_CUSTOMER,
    headers=(IDEMPOTENCY_KEY,),
)
def create_order() -> Response:
    """Record an order, a guest's or a customer account's, and queue it for fulfilment."""
    rt = runtime()
    owner = _owner()
    key = idempotency.parse_key(request.headers.get(idempotency.HEADER))
    idempotency.require_key(key, rt.settings.idempotency_key_required)
    body = json_body()
    try:
        order_request = validate_order(
            body,
            max_line_quantity=rt.settings.max_line_quantity,
            max_order_lines=rt.settings.max_order_lines,
        )
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    secret = rt.settings.order_token_secret.get_secret_value()
    placed = PlacedOrder.new(secret, owner)
    response = _accepted(placed, rt.settings.public_base_url)
    ttl = rt.settings.idempotency_key_ttl_hours
    scope = idempotency.scope_of(owner, body)
    claim = idempotency.claim_for(scope, key, body, response, ttl) if key else None
    try:
        recorded = place_order(rt.work, order_request, rt.settings, placed, claim)
    except InvalidOrder as exc:
        # A replay answers as the first request did, whatever the catalogue says now.
        if claim and (first := idempotency.stored(rt.work, claim)):
            return _respond(_with_token(first, secret), replayed=True)
        raise Problem(422, "Invalid request", errors=exc.errors) from None
    if claim and not recorded:
        return _respond(_with_token(idempotency.replay(rt.work, claim), secret), replayed=True)
    # The request's access line says it was received (intake/request_log.py).
    structlog.contextvars.bind_contextvars(order_id=str(placed.order_id))
    return _respond(_with_token(response, secret), replayed=False)


def _accepted(placed: PlacedOrder, public_base_url: str) -> idempotency.StoredResponse:
    """The answer as stored under an Idempotency-Key: without the token, a secret."""
    status_url = f"{public_base_url.rstrip('/')}/orders/{placed.order_id}"
    body = {"order_id": str(placed.order_id), "status": "received", "status_url": status_url}
    return idempotency.StoredResponse(202, body, {"Location": status_url})


def _with_token(stored: idempotency.StoredResponse, secret: str) -> idempotency.StoredResponse:
    """The answer with the order's token, derived again (one stored with it keeps its own)."""
    if "order_token" in stored.body:
        return stored
    token = order_token(secret, uuid.UUID(str(stored.body["order_id"])))
    return replace(stored, body={**stored.body, "order_token": token})


@bp.get("/orders/<order_id>")
@operation(
    replies={200: Reply(OrderView, alternatives=(order_page.PAGE,))},
    problems=(429,),
    auth=ORDER_READER,
    path={"order_id": uuid.UUID},
)
def read_order(order_id: str) -> Response:
    """The order, for its guest (token or link), its customer account, or staff: as JSON, or
    as the customer's order page when a browser asks for HTML."""
    who = viewer()
    with runtime().sessions() as session:
        order = order_for(session, order_id, who)
        if order_page.wants_page():
            return order_page.page(session, order, who)
        response = jsonify(order_view(session, order))
        response.headers["Vary"] = "Accept"
        return response
