"""Returns of an order: opened by its guest, its customer or staff; received by staff.

POST /orders/<id>/returns opens one (201 with the return; an Idempotency-Key replays it),
GET /orders/<id>/returns lists them, and POST /orders/<id>/returns/<rma>/receive records what
came back: a second receipt changes nothing and says so. The carrier's delivered event for a
return label receives it too (intake/tracking.py).
"""

from __future__ import annotations

import re
import uuid

from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from intake import idempotency
from intake.access import order_for, require_staff, viewer
from intake.auth import STAFF_WRITE
from intake.bodies import json_body, validated
from intake.openapi import ORDER_ACTOR, ORDER_READER, STAFF, Reply, operation
from intake.openapi.declare import Header
from intake.order_actions import actor
from intake.problems import Problem, from_validation_error
from intake.return_models import (
    ReceiveRequest,
    ReturnList,
    ReturnOpened,
    ReturnReceived,
    ReturnRequest,
)
from intake.return_views import return_documents
from intake.runtime import runtime
from models.domain.clock import utcnow
from models.domain.returns import RMA_PATTERN, normalize_rma
from models.services.return_receipt import Count, receive_return
from models.services.returns import Asked, ReturnRefused, open_return
from models.store.held_keys import answer_key, hold_key

bp = Blueprint("returns", __name__)

RETURN_KEY = Header(
    "Idempotency-Key",
    'Optional. A structured-field string (RFC 8941), so quoted: `"8e03978e-..."`. The same '
    "request again under the same key gets the first answer again, with "
    "`Idempotent-Replayed: true`, and opens no second return; the same key with another body "
    "is a 422. Keys are the order's, kept `IDEMPOTENCY_KEY_TTL_HOURS`.",
    {"type": "string", "pattern": r'^ *"([ !#-\[\]-~]|\\[\\"])+" *$', "maxLength": 600},
)


def refused(exc: ReturnRefused) -> Problem:
    """The problem document of a return that cannot be opened or received as asked."""
    return Problem(exc.status, exc.title, errors=exc.errors)


def opened_return(
    session: Session, order_id: uuid.UUID, wanted: ReturnRequest, who_acts: str
) -> dict[str, object]:
    """Open the return in the session's transaction; its document, or a 4xx saying why not."""
    try:
        opened = open_return(
            session,
            order_id,
            [Asked(line.line_no, line.quantity) for line in wanted.lines],
            reason=wanted.reason,
            note=wanted.note or None,
            actor=who_acts,
            now=utcnow(),
            window_days=runtime().settings.return_window_days,
        )
    except ReturnRefused as exc:
        raise refused(exc) from None
    return return_documents(session, order_id, opened.rma_number)[0]


def _respond(stored: idempotency.StoredResponse, *, replayed: bool) -> Response:
    response = jsonify(stored.body)
    response.status_code = stored.status
    if replayed:
        response.headers[idempotency.REPLAYED_HEADER] = "true"
    return response


def _wanted() -> tuple[object, ReturnRequest]:
    body = json_body()
    try:
        return body, ReturnRequest.model_validate(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


@bp.post("/orders/<order_id>/returns")
@operation(
    body=ReturnRequest,
    replies={201: Reply(ReturnOpened, headers=("Idempotent-Replayed",))},
    problems=(409, 415, 422, 429),
    auth=ORDER_ACTOR,
    headers=(RETURN_KEY,),
    path={"order_id": uuid.UUID},
)
def open_order_return(order_id: str) -> Response:
    """Open a return of delivered units: an RMA number now, the label and its mail to follow."""
    who = viewer()
    key = idempotency.parse_key(request.headers.get(idempotency.HEADER))
    body, wanted = _wanted()
    rt = runtime()
    with rt.work() as session:
        order = order_for(session, order_id, who, change=True)
        claim = _claim(order.id, key, body)
        if claim is None or hold_key(session, claim):
            document = opened_return(session, order.id, wanted, actor(who))
            answer = idempotency.StoredResponse(201, document, {})
            if claim is not None:
                answer_key(session, claim, answer)
            return _respond(answer, replayed=False)
    # The key was used before (or is being used now): its response, once that one committed.
    return _respond(idempotency.replay(rt.work, claim), replayed=True)


def _claim(order_id: uuid.UUID, key: str | None, body: object) -> idempotency.KeyClaim | None:
    """The claim of the request's key, scoped to the order; None without a key."""
    if key is None:
        return None
    ttl = runtime().settings.idempotency_key_ttl_hours
    empty = idempotency.StoredResponse(201, {}, {})
    return idempotency.claim_for(f"return:{order_id}", key, body, empty, ttl)


@bp.get("/orders/<order_id>/returns")
@operation(
    replies={200: ReturnList}, problems=(429,), auth=ORDER_READER, path={"order_id": uuid.UUID}
)
def list_returns(order_id: str) -> Response:
    """The order's returns, oldest first, each with its label, lines, receipt and refund."""
    who = viewer()
    with runtime().sessions() as session:
        order = order_for(session, order_id, who)
        return jsonify({"order_id": str(order.id), "returns": return_documents(session, order.id)})


def rma_of(text: str) -> str:
    """The RMA number from the path, as typed; anything that cannot be one is a 404."""
    rma = normalize_rma(text)
    if len(text) > 40 or not re.fullmatch(RMA_PATTERN, rma):
        raise Problem(404, "Return not found")
    return rma


@bp.post("/orders/<order_id>/returns/<rma>/receive")
@operation(
    body=ReceiveRequest,
    replies={200: ReturnReceived},
    problems=(415, 422, 429),
    auth=STAFF,
    path={"order_id": uuid.UUID},
)
def receive(order_id: str, rma: str) -> Response:
    """Record what came back (staff): stock back or into quarantine, the accepted units
    refunded. A return received before is not received again (`already_received`)."""
    who = viewer()
    require_staff(who, STAFF_WRITE)
    wanted = validated(ReceiveRequest) if request.get_data() else ReceiveRequest()
    number = rma_of(rma)
    counts = None
    if wanted.lines is not None:
        counts = [Count(line.line_no, line.received, line.accepted) for line in wanted.lines]
    with runtime().work() as session:
        order = order_for(session, order_id, who, change=True)
        return received_answer(session, order.id, number, counts, actor(who))


def received_answer(
    session: Session, order_id: uuid.UUID, rma: str, counts: list[Count] | None, who_acts: str
) -> Response:
    """Receive the return in the session's transaction: its document and whether it was
    received before; 404 for a return the order does not have."""
    try:
        receipt = receive_return(session, order_id, rma, counts, actor=who_acts, now=utcnow())
    except LookupError:
        raise Problem(404, "Return not found") from None
    except ReturnRefused as exc:
        raise refused(exc) from None
    document = return_documents(session, order_id, receipt.rma_number)[0]
    return jsonify(document | {"already_received": receipt.already})
