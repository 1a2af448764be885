"""POST /orders/<id>/lines/cancel: cancel some units of an order's lines before they ship (its
guest, its customer, or staff), under an Idempotency-Key so a retry cancels once."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy.orm import Session

from intake import idempotency
from intake.access import NOT_FOUND, Viewer, order_for, viewer
from intake.api_models import OrderView
from intake.bodies import json_body
from intake.openapi import ORDER_ACTOR, Reply, operation
from intake.openapi.declare import Header
from intake.order_actions import actor
from intake.problems import Problem, from_validation_error
from intake.reading import order_view
from intake.runtime import runtime
from models.domain.clock import utcnow
from models.services.cancel_lines import (
    RETRY_AFTER_SECONDS,
    CannotCancelLines,
    InvalidLines,
    LinesCancelled,
    PaymentInProgress,
    cancel_lines,
)
from models.store.held_keys import answer_key, hold_key

bp = Blueprint("line_cancel", __name__)

# Keeps every count within a PostgreSQL integer.
MOST = 1_000_000
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class LineToCancel(BaseModel):
    """Units of one line to cancel."""

    model_config = ConfigDict(extra="forbid", strict=True)

    line_no: int = Field(ge=1, le=MOST, description="the line's `line_no` in the order document")
    quantity: int = Field(ge=1, le=MOST, description="units to cancel")


class LinesCancelRequest(BaseModel):
    """The lines to cancel units of, each named once, and why."""

    model_config = ConfigDict(extra="forbid")

    lines: list[LineToCancel] = Field(min_length=1, max_length=100)
    reason: Reason = "cancelled on request"


LINE_CANCEL_KEY = Header(
    "Idempotency-Key",
    'A structured-field string (RFC 8941), so quoted: `"8e03978e-40d5-43e8-bc93-6894a57f9324"`; '
    "required (unless `IDEMPOTENCY_KEY_REQUIRED=false`). The same request again under the "
    "same key cancels nothing more and gets the first answer, with `Idempotent-Replayed: "
    "true`; the same key with another body or order is a 422. Kept "
    "`IDEMPOTENCY_KEY_TTL_HOURS` (24 h).",
    {"type": "string", "pattern": r'^ *"([ !#-\[\]-~]|\\[\\"])+" *$', "maxLength": 600},
    required=True,
)


def _request(body: Any) -> LinesCancelRequest:
    try:
        wanted = LinesCancelRequest.model_validate(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    seen: set[int] = set()
    twice = []
    for index, line in enumerate(wanted.lines):
        if line.line_no in seen:
            reason = f"line {line.line_no} is named twice: name each line once"
            twice.append({"field": f"lines[{index}].line_no", "reason": reason})
        seen.add(line.line_no)
    if twice:
        raise Problem(422, "Invalid request", errors=twice)
    return wanted


def _claim(who: Viewer, order_id: uuid.UUID, key: str | None, body: Any) -> idempotency.KeyClaim:
    assert key is not None
    # A guest's key goes with the order its token opens; an account's is the account's.
    scope = f"customer:{who.account.subject}" if who.account else f"order:{order_id}"
    ttl = runtime().settings.idempotency_key_ttl_hours
    signed = {"path": request.path, "body": body}
    return idempotency.claim_for(scope, key, signed, idempotency.StoredResponse(200, {}, {}), ttl)


def _refused(exc: Exception, wanted: LinesCancelRequest) -> Problem:
    if isinstance(exc, PaymentInProgress):
        return Problem(
            409,
            "Payment in progress",
            detail=f"{exc}: the order's charge is being taken",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, CannotCancelLines):
        return Problem(409, "Lines cannot be cancelled", detail=str(exc))
    assert isinstance(exc, InvalidLines)
    index = {line.line_no: i for i, line in enumerate(wanted.lines)}
    errors = [
        {"field": f"lines[{index[f.line_no]}].{f.field}", "reason": f.reason}
        if f.line_no in index
        else {"field": f.field, "reason": f.reason}
        for f in exc.faults
    ]
    return Problem(422, "Invalid request", errors=errors)


def cancel_in(
    session: Session, order_id: uuid.UUID, wanted: LinesCancelRequest, *, by: str
) -> LinesCancelled:
    """Cancel the request's lines in the session's transaction, or the problem saying why not."""
    units = {line.line_no: line.quantity for line in wanted.lines}
    try:
        return cancel_lines(session, order_id, units, reason=wanted.reason, actor=by, now=utcnow())
    except LookupError:
        raise NOT_FOUND from None
    except (PaymentInProgress, CannotCancelLines, InvalidLines) as exc:
        raise _refused(exc, wanted) from None


@bp.post("/orders/<order_id>/lines/cancel")
@operation(
    body=LinesCancelRequest,
    replies={200: Reply(OrderView, headers=("Idempotent-Replayed",))},
    problems=(409, 415, 422, 429),
    auth=ORDER_ACTOR,
    headers=(LINE_CANCEL_KEY,),
    path={"order_id": uuid.UUID},
)
def cancel_order_lines(order_id: str) -> Response:
    """Cancel units of lines that have not shipped: their stock released, the money taken for
    them refunded; cancelling every unit left cancels the order. 409 with `Retry-After` while
    the order's charge is being taken."""
    rt = runtime()
    who = viewer()
    key = idempotency.parse_key(request.headers.get(idempotency.HEADER))
    idempotency.require_key(key, rt.settings.idempotency_key_required)
    body = json_body()
    wanted = _request(body)
    claim = None
    with rt.work() as session:
        order = order_for(session, order_id, who, change=True)
        claim = _claim(who, order.id, key, body) if key else None
        if claim is None or hold_key(session, claim):
            cancel_in(session, order.id, wanted, by=actor(who))
            view = order_view(session, order)
            if claim is not None:
                answer_key(session, claim, idempotency.StoredResponse(200, view, {}))
            return jsonify(view)
    assert claim is not None
    stored = idempotency.replay(rt.work, claim)
    response = jsonify(stored.body)
    response.status_code = stored.status
    response.headers[idempotency.REPLAYED_HEADER] = "true"
    return response
