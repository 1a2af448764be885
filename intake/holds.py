"""POST /orders/<id>/hold and /orders/<id>/hold/release: staff hold an order for review
before it is charged, and release it to be charged (README "Holds")."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from intake.access import NOT_FOUND, order_for, require_staff, viewer
from intake.api_models import Closed
from intake.auth import STAFF_WRITE
from intake.bodies import validated
from intake.openapi import STAFF, Reply, operation
from intake.order_actions import actor
from intake.problems import Problem
from intake.runtime import runtime
from models.domain.clock import utcnow
from models.domain.holds import HoldReason
from models.domain.lifecycle import OrderStatus
from models.services.holds import (
    CannotHold,
    HoldChange,
    hold_by_hand,
    manual_hold,
    release_by_hand,
    rules_from,
)

bp = Blueprint("holds", __name__)

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class HoldRequest(BaseModel):
    """Why staff hold the order."""

    model_config = ConfigDict(extra="forbid")

    reason: HoldReason = HoldReason.OTHER
    note: Note | None = None


class ReleaseRequest(BaseModel):
    """A note for the order's timeline."""

    model_config = ConfigDict(extra="forbid")

    note: Note | None = None


class HoldAnswer(Closed):
    """The order after a hold or a release."""

    order_id: uuid.UUID
    status: OrderStatus = Field(
        description="`on_hold` after a hold; `allocated` (or later) after a release"
    )
    changed: bool = Field(description="false when it was held (or released) before")
    hold_reason: str | None = Field(description="why it is (or was) held")


def _answer(change: HoldChange) -> Response:
    response = jsonify(
        {
            "order_id": str(change.order_id),
            "status": change.status,
            "changed": change.changed,
            "hold_reason": change.reason,
        }
    )
    response.status_code = 202 if change.changed else 200
    return response


def _conflict(exc: CannotHold, field: Literal["hold", "release"]) -> Problem:
    return Problem(
        409,
        "Order cannot be held" if field == "hold" else "Order cannot be released",
        detail=str(exc),
        extensions={"current_status": exc.status},
    )


@bp.post("/orders/<order_id>/hold")
@operation(
    body=HoldRequest,
    replies={
        200: Reply(HoldAnswer, description="Held before: nothing changed"),
        202: Reply(HoldAnswer, description="Held now: it is not charged until released"),
    },
    problems=(409, 415, 422),
    auth=STAFF,
    path={"order_id": uuid.UUID},
)
def hold(order_id: str) -> Response:
    """Hold an allocated order for review before it is charged; it keeps its stock until
    HOLD_RESERVATION_HOURS have passed, then it is cancelled."""
    who = viewer()
    require_staff(who, STAFF_WRITE)
    wanted = validated(HoldRequest) if request.get_data() else HoldRequest()
    rt = runtime()
    with rt.work() as session:
        order = order_for(session, order_id, who, change=True)
        try:
            change = hold_by_hand(
                session,
                order.id,
                manual_hold(wanted.reason, wanted.note),
                by=actor(who),
                now=utcnow(),
                rules=rules_from(rt.settings),
            )
        except LookupError:
            raise NOT_FOUND from None
        except CannotHold as exc:
            raise _conflict(exc, "hold") from None
        return _answer(change)


@bp.post("/orders/<order_id>/hold/release")
@operation(
    body=ReleaseRequest,
    replies={
        200: Reply(HoldAnswer, description="Released before: nothing changed"),
        202: Reply(HoldAnswer, description="Released now: its charge is asked for, once"),
    },
    problems=(409, 415, 422),
    auth=STAFF,
    path={"order_id": uuid.UUID},
)
def release(order_id: str) -> Response:
    """Release a held order: it goes on to be charged, once however many releases race."""
    who = viewer()
    require_staff(who, STAFF_WRITE)
    wanted = validated(ReleaseRequest) if request.get_data() else ReleaseRequest()
    with runtime().work() as session:
        order = order_for(session, order_id, who, change=True)
        by = actor(who) if wanted.note is None else f"{actor(who)}: {wanted.note}"
        try:
            change = release_by_hand(session, order.id, by=by[:200], now=utcnow())
        except LookupError:
            raise NOT_FOUND from None
        except CannotHold as exc:
            raise _conflict(exc, "release") from None
        return _answer(change)
