"""Returns on the customer's order page: the returns so far, and a form to start one.

The form posts the page's `access` value, as the cancel button does (intake/order_page.py),
with a quantity per line, a reason and an optional note; the answer is a redirect back to the
page, which names the new RMA number, or says why no return was opened.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request
from sqlalchemy.orm import Session

from intake.access import Viewer, order_for, unauthorized
from intake.openapi import Content, Reply, operation
from intake.problems import Problem
from intake.return_views import return_documents
from intake.runtime import runtime
from models.domain.clock import utcnow
from models.domain.links import ACCESS_PARAMETER, MAX_ACCESS
from models.domain.returns import MAX_NOTE, REASONS, RMA_PATTERN
from models.services.returns import Asked, ReturnRefused, open_return, returnable_units
from models.store.catalog import product_names
from models.tables.orders import Order

bp = Blueprint("return_page", __name__)

FORM_TYPE = "application/x-www-form-urlencoded"
FORM = Content(
    FORM_TYPE,
    {
        "type": "object",
        "properties": {
            ACCESS_PARAMETER: {"type": "string", "maxLength": MAX_ACCESS},
            "reason": {"type": "string", "enum": list(REASONS)},
            "note": {"type": "string", "maxLength": MAX_NOTE},
        },
        "patternProperties": {"^quantity_[0-9]+$": {"type": "string", "pattern": "^[0-9]*$"}},
        "required": [ACCESS_PARAMETER],
    },
    "The page's return form: the link's access value, `quantity_<line_no>` per line, a reason",
)
REASON_WORDS = {
    "damaged": "It arrived damaged",
    "defective": "It does not work",
    "wrong_item": "It is not what I ordered",
    "not_as_described": "It is not as described",
    "no_longer_needed": "I no longer need it",
    "other": "Another reason",
}
# What the page says after the form, by the `done` value of the redirect.
RETURN_NOTICES = {
    "return_empty": "Choose how many units of which items you are sending back.",
    "return_refused": "Those units cannot be returned: they have not arrived, are already in "
    "a return, or the return window has closed.",
}
QUANTITY = re.compile(r"quantity_([0-9]{1,5})")


def _notice() -> str | None:
    done, rma = request.args.get("done", ""), request.args.get("rma", "")
    if done == "return_opened" and re.fullmatch(RMA_PATTERN, rma):
        return f"Your return {rma} is open. We are mailing you its label and what to do next."
    return RETURN_NOTICES.get(done)


def return_view(session: Session, order: Order, who: Viewer) -> dict[str, Any]:
    """The page's returns: those opened, and for the link's holder, what may still go back."""
    returnable: list[dict[str, Any]] = []
    if who.link is not None:
        window = runtime().settings.return_window_days
        units = returnable_units(session, order.id, now=utcnow(), window_days=window)
        names = product_names(session, order)
        returnable = [
            {
                "line_no": line.line_no,
                "name": names.get(line.article_number) or line.article_number,
                "units": units[line.line_no],
            }
            for line in order.lines
            if line.line_no in units
        ]
    return {
        "returns": return_documents(session, order.id),
        "returnable": returnable,
        "reasons": REASON_WORDS,
        "return_notice": _notice(),
    }


def _access() -> str:
    if request.mimetype != FORM_TYPE:
        why = [{"field": "Content-Type", "reason": f"must be {FORM_TYPE}"}]
        raise Problem(415, "Unsupported Media Type", errors=why)
    access = request.form.get(ACCESS_PARAMETER, "")
    if not access or len(access) > MAX_ACCESS:
        raise unauthorized("open the order from the link in its email")
    return access


def _asked() -> list[Asked]:
    asked = []
    for name, value in request.form.items():
        line = QUANTITY.fullmatch(name)
        if line and value.strip().isdigit() and 0 < int(value) <= 10_000:
            asked.append(Asked(int(line.group(1)), int(value)))
    return asked


def _back(order_id: uuid.UUID, access: str, **query: str) -> Response:
    where = urlencode({ACCESS_PARAMETER: access, **query})
    return Response(status=303, headers={"Location": f"/orders/{order_id}?{where}#returns"})


@bp.post("/orders/<order_id>/page/return")
@operation(
    body=FORM,
    replies={303: Reply(None, headers=("Location",), description="Back to the page")},
    problems=(401, 415, 429),
    path={"order_id": uuid.UUID},
)
def return_from_page(order_id: str) -> Response:
    """The page's return form: open a return, then show the page again with its RMA number."""
    access = _access()
    asked, reason = _asked(), request.form.get("reason", "")
    note = request.form.get("note", "").replace("\x00", "").strip()[:MAX_NOTE] or None
    with runtime().work() as session:
        order = order_for(session, order_id, Viewer(link=access))
        if not asked or reason not in REASONS:
            return _back(order.id, access, done="return_empty")
        try:
            opened = open_return(
                session,
                order.id,
                asked,
                reason=reason,
                note=note,
                actor="customer link",
                now=utcnow(),
                window_days=runtime().settings.return_window_days,
            )
        except ReturnRefused:
            return _back(order.id, access, done="return_refused")
        return _back(order.id, access, done="return_opened", rma=opened.rma_number)
