"""The customer's order page: the order as HTML, opened from the signed link every mail carries.

The link is the order's own URL (`/orders/<id>?access=…`): a browser, which asks for HTML
first, gets this page; an API client, which asks for JSON (or anything), gets the JSON. The
page's buttons post forms that carry the same `access` value, which is what makes them the
order holder's and not a forgery: a page elsewhere cannot know it. Each action answers with a
redirect back to the page (post, redirect, get), so a reload never repeats it.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request
from sqlalchemy.orm import Session

from intake.access import Viewer, order_for, unauthorized
from intake.openapi import Content, Reply, operation
from intake.order_actions import cancelled
from intake.page_words import EVENTS, NOTICES, STATUSES, parcel_status
from intake.problems import Problem
from intake.reading import order_view
from intake.return_page import return_view
from intake.runtime import runtime
from models.domain.links import ACCESS_PARAMETER, MAX_ACCESS
from models.domain.mail import money
from models.services.cancel import CANCELLABLE
from models.services.cancel_lines import LINES_CANCELLABLE
from models.store.line_units import line_units
from models.tables.orders import Order

bp = Blueprint("order_page", __name__)

HTML = "text/html"
JSON = "application/json"
PAGE = Content(HTML, {"type": "string"}, "The order page, for a browser asking for HTML first")
FORM = Content(
    "application/x-www-form-urlencoded",
    {
        "type": "object",
        "properties": {ACCESS_PARAMETER: {"type": "string", "maxLength": MAX_ACCESS}},
        "required": [ACCESS_PARAMETER],
    },
    "What the page's form sends: the access value of the link the page was opened with",
)


def wants_page() -> bool:
    """Whether the client asked for HTML before JSON: a browser following a link does."""
    return request.accept_mimetypes.best_match([JSON, HTML]) == HTML


def _actions(order: Order, who: Viewer) -> list[str]:
    # Only the link's holder gets buttons: the forms carry the link, and nothing else here.
    if who.link is None:
        return []
    actions = ["cancel"] if order.status in CANCELLABLE else []
    return actions + (["cancel_lines"] if order.status in LINES_CANCELLABLE else [])


def _page_view(session: Session, order: Order, who: Viewer) -> dict[str, Any]:
    view = order_view(session, order)
    currency = order.currency
    left = line_units(session, order.id)
    for line in view["lines"]:
        line["amount_text"] = money(line["amount"], currency)
        units = left.get(line["line_no"])
        line["cancellable"] = units.cancellable if units is not None else 0
    costs = view["costs"]
    for parcel in view["shipments"]:
        parcel["status_text"] = parcel_status(parcel["status"])
    timeline = [e | {"text": EVENTS[e["event"]]} for e in view["timeline"] if e["event"] in EVENTS]
    return (
        view
        | {
            "timeline": timeline,
            "short": str(order.id)[:8],
            "status_text": STATUSES.get(order.status, order.status),
            "subtotal": money(costs["subtotal"], currency),
            "delivery": money(costs["delivery"], currency),
            "total": money(costs["total"], currency),
            "self_service": order.delivery_method == "self_service",
            "actions": _actions(order, who),
            "access": who.link or "",
            "notice": NOTICES.get(request.args.get("done", "")),
            # Names one submission of a line's form: sent twice, it cancels once.
            "form_key": uuid.uuid4().hex,
        }
        | return_view(session, order, who)
    )


def page(session: Session, order: Order, who: Viewer) -> Response:
    """The order page for whoever may see the order."""
    response = Response(render_template("order_page.html", view=_page_view(session, order, who)))
    # The page shows an address and a link that opens the order: keep it out of every cache,
    # and send no Referer with its links (the URL holds the access value).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Vary"] = "Accept"
    return response


def form_access() -> str:
    """The access value a page form posted, or the 415 / 401 saying what is wrong."""
    if request.mimetype != FORM.media_type:
        raise Problem(
            415,
            "Unsupported Media Type",
            errors=[{"field": "Content-Type", "reason": f"must be {FORM.media_type}"}],
        )
    access = request.form.get(ACCESS_PARAMETER, "")
    if not access or len(access) > MAX_ACCESS:
        raise unauthorized("open the order from the link in its email")
    return access


def back(order_id: uuid.UUID, access: str, done: str) -> Response:
    """303 back to the order page, which says what happened (`done`, a key of NOTICES)."""
    query = urlencode({ACCESS_PARAMETER: access, "done": done})
    return Response(status=303, headers={"Location": f"/orders/{order_id}?{query}"})


@bp.post("/orders/<order_id>/page/cancel")
@operation(
    body=FORM,
    replies={
        303: Reply(
            None, headers=("Location",), description="Back to the page, which says what happened"
        )
    },
    problems=(401, 415, 429),
    path={"order_id": uuid.UUID},
)
def cancel_from_page(order_id: str) -> Response:
    """The page's cancel button: cancel the order, then show the page again."""
    access = form_access()
    who = Viewer(link=access)
    with runtime().work() as session:
        order = order_for(session, order_id, who, lock=True)
        if order.status not in CANCELLABLE:
            return back(order.id, access, "not_cancellable")
        cancelled(session, order.id, reason="cancelled by the customer", actor="customer link")
        return back(order.id, access, "cancelled")
