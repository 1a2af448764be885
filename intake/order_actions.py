"""POST /orders/<id>/cancel (its guest, its customer, or staff) and PATCH /orders/<id>/status
(staff, along the transitions a person may take)."""

from __future__ import annotations

import uuid
from typing import Annotated

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session

from intake.access import NOT_FOUND, Viewer, order_for, require_staff, viewer
from intake.api_models import Cancelled, StatusChanged
from intake.auth import STAFF_WRITE
from intake.bodies import validated
from intake.openapi import ORDER_ACTOR, STAFF, Reply, operation
from intake.problems import Problem
from intake.runtime import runtime
from models.domain.clock import utcnow
from models.domain.lifecycle import OrderStatus
from models.services.cancel import CannotCancel, cancel_order
from models.services.change_status import IllegalTransition, change_status

bp = Blueprint("order_actions", __name__)

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class CancelRequest(BaseModel):
    """Why the order is cancelled."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason = "cancelled on request"


class StatusRequest(BaseModel):
    """The status staff set the order to, and why."""

    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    reason: Reason = Field("set by staff")


def actor(who: Viewer) -> str:
    """Who acts, as the order's timeline records it: never a token, never an address."""
    if who.account is not None:
        kind = "customer" if who.customer is not None else "staff"
        return f"{kind} {who.account.subject}"
    return "guest"


# The answers of every cancel, the admin API's too.
CANCEL_REPLIES = {
    200: Reply(Cancelled, description="Cancelled before: nothing changed"),
    202: Reply(Cancelled, description="Cancelled now; a refund is queued if it was paid"),
}


def cancelled(session: Session, key: uuid.UUID, *, reason: str, actor: str) -> Response:
    """Cancel the order in the session's transaction: 202, or 200 if it was already; 409
    once it has shipped; 404 if there is no such order."""
    try:
        done = cancel_order(session, key, reason=reason, actor=actor, now=utcnow())
    except LookupError:
        raise NOT_FOUND from None
    except CannotCancel as exc:
        raise Problem(409, "Order cannot be cancelled", detail=str(exc)) from None
    response = jsonify(
        {
            "order_id": str(key),
            "status": "cancelled",
            "already_cancelled": done.already,
            "refund": "pending" if done.refund else "none",
            "units_released": done.units_released,
        }
    )
    response.status_code = 200 if done.already else 202
    return response


def _cancel_request() -> CancelRequest:
    # No body at all is a cancel without a reason.
    return validated(CancelRequest) if request.get_data() else CancelRequest()


@bp.post("/orders/<order_id>/cancel")
@operation(
    body=CancelRequest,
    replies=CANCEL_REPLIES,
    problems=(409, 415, 422, 429),
    auth=ORDER_ACTOR,
    path={"order_id": uuid.UUID},
)
def cancel(order_id: str) -> Response:
    """Cancel an order that has not shipped: stock released, a refund queued if it was paid."""
    who = viewer()
    wanted = _cancel_request()
    with runtime().work() as session:
        order = order_for(session, order_id, who, change=True)
        return cancelled(session, order.id, reason=wanted.reason, actor=actor(who))


@bp.patch("/orders/<order_id>/status")
@operation(
    body=StatusRequest,
    replies={200: StatusChanged},
    problems=(409, 415, 422),
    auth=STAFF,
    path={"order_id": uuid.UUID},
)
def set_status(order_id: str) -> Response:
    """Set the order's status by hand: only to where a person may move it, else 409."""
    who = viewer()
    require_staff(who, STAFF_WRITE)
    wanted = validated(StatusRequest)
    with runtime().work() as session:
        order = order_for(session, order_id, who, change=True)
        try:
            change = change_status(
                session,
                order.id,
                wanted.status,
                reason=wanted.reason,
                actor=actor(who),
                now=utcnow(),
            )
        except IllegalTransition as exc:
            raise Problem(
                409,
                "Transition not allowed",
                detail=str(exc),
                errors=[{"field": "status", "reason": _allowed_reason(exc.allowed)}],
                extensions={"current_status": exc.current, "allowed": exc.allowed},
            ) from None
        return jsonify(
            {"order_id": str(order.id), "status": change.status, "changed": change.changed}
        )


def _allowed_reason(allowed: list[str]) -> str:
    return f"may be set to {', '.join(allowed)}" if allowed else "the order's status is final"
