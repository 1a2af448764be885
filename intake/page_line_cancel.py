"""The order page's line forms: cancel some units of one line, then show the page again.

Each form carries the access value of the link the page was opened with, as the page's
cancel button does, and a key made when the page was drawn, so a form sent twice (a
double click, a resend) cancels once.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, request

from intake import idempotency
from intake.access import Viewer, order_for, order_key
from intake.openapi import Content, Reply, operation
from intake.order_page import FORM, back, form_access
from intake.problems import Problem
from intake.runtime import runtime
from models.domain.clock import utcnow
from models.domain.links import ACCESS_PARAMETER, MAX_ACCESS
from models.services.cancel_lines import (
    CannotCancelLines,
    InvalidLines,
    PaymentInProgress,
    cancel_lines,
)
from models.store.held_keys import hold_key

bp = Blueprint("page_line_cancel", __name__)

MOST = 1_000_000
LINE_FORM = Content(
    FORM.media_type,
    {
        "type": "object",
        "properties": {
            ACCESS_PARAMETER: {"type": "string", "maxLength": MAX_ACCESS},
            "line_no": {"type": "string", "pattern": "^[0-9]{1,7}$"},
            "quantity": {"type": "string", "pattern": "^[0-9]{1,7}$"},
            "key": {"type": "string", "maxLength": 64},
        },
        "required": [ACCESS_PARAMETER, "line_no", "quantity"],
    },
    "What a line's form sends: the access value, the line, the units to cancel, the form's key",
)


class _Refused(Exception):
    """The cancel was refused: the page says why (a key of NOTICES)."""

    def __init__(self, done: str) -> None:
        super().__init__(done)
        self.done = done


def _count(name: str) -> int:
    raw = request.form.get(name, "")
    if not raw.isdigit() or not 1 <= int(raw) <= MOST:
        reason = f"must be a whole number from 1 to {MOST}"
        raise Problem(422, "Invalid request", errors=[{"field": name, "reason": reason}])
    return int(raw)


def _form_key(order_id: uuid.UUID) -> idempotency.KeyClaim | None:
    key = request.form.get("key", "")
    if not key or len(key) > 64 or not key.isalnum():
        return None
    form = {"line_no": request.form.get("line_no"), "quantity": request.form.get("quantity")}
    ttl = runtime().settings.idempotency_key_ttl_hours
    stored = idempotency.StoredResponse(303, {}, {})
    return idempotency.claim_for(f"page:{order_id}", key, form, stored, ttl)


def _cancel(order_id: str, access: str, line_no: int, units: int) -> str:
    """Cancel in one transaction; what the page says after it. Refusals roll it back."""
    with runtime().work() as session:
        order = order_for(session, order_id, Viewer(link=access), lock=True)
        claim = _form_key(order.id)
        if claim is not None and not hold_key(session, claim):
            return "lines_cancelled"  # this very form was sent before
        try:
            done = cancel_lines(
                session,
                order.id,
                {line_no: units},
                reason="cancelled by the customer",
                actor="customer link",
                now=utcnow(),
            )
        except PaymentInProgress:
            raise _Refused("payment_in_progress") from None
        except (CannotCancelLines, InvalidLines):
            raise _Refused("lines_not_cancellable") from None
        return "cancelled" if done.whole_order else "lines_cancelled"


@bp.post("/orders/<order_id>/page/lines/cancel")
@operation(
    body=LINE_FORM,
    replies={
        303: Reply(
            None, headers=("Location",), description="Back to the page, which says what happened"
        )
    },
    problems=(401, 415, 422, 429),
    path={"order_id": uuid.UUID},
)
def cancel_lines_from_page(order_id: str) -> Response:
    """A line's cancel button on the order page: cancel its units, then show the page again."""
    access = form_access()
    line_no, units = _count("line_no"), _count("quantity")
    try:
        done = _cancel(order_id, access, line_no, units)
    except _Refused as refused:
        done = refused.done
    return back(order_key(order_id), access, done)
