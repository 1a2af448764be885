"""The order page of a paid order: its line forms cancel units of a line and come back to the
page saying so; the same form sent twice cancels once; refusals say why without a 5xx. Its
timeline tells an authorisation from money taken."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.links import access_for
from tests.integration.line_cancel_support import Placed, books, paid, placed

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def access_of(context: Context, order: Placed) -> str:
    secret = context.settings.order_token_secret.get_secret_value()
    return access_for(secret, order.order_id, utcnow(), 1)


def page_of(client: FlaskClient, order: Placed, access: str) -> str:
    url = f"/orders/{order.order_id}?access={access}"
    return str(client.get(url, headers={"Accept": BROWSER}).get_data(as_text=True))


def form_key(html: str, line_no: int) -> str:
    keys: list[str] = re.findall(r'name="key" value="(\w+)"', html)
    return next(k for k in keys if k.endswith(str(line_no)))


def done_of(response: object) -> str:
    location = response.headers["Location"]  # type: ignore[attr-defined]
    return str(parse_qs(urlsplit(location).query)["done"][0])


def test_the_timeline_of_an_order_whose_card_is_only_authorised_says_no_money_was_received(
    client: FlaskClient, context: Context
) -> None:
    assert context.settings.payment_capture == "at_shipment"
    order = paid(client, context, [(1500, 1)])

    html = page_of(client, order, access_of(context, order))

    assert "Payment confirmed" in html
    assert "Payment received" not in html


def test_a_line_form_cancels_its_units_and_a_resend_cancels_nothing_more(
    client: FlaskClient, context: Context
) -> None:
    order = paid(client, context, [(1500, 3), (900, 2)])
    access = access_of(context, order)
    html = page_of(client, order, access)
    assert html.count('class="cancel-line"') == 2
    form = {"access": access, "line_no": "1", "quantity": "2", "key": form_key(html, 1)}
    url = f"/orders/{order.order_id}/page/lines/cancel"

    first = client.post(url, data=form)
    again = client.post(url, data=form)

    assert first.status_code == again.status_code == 303
    assert done_of(first) == done_of(again) == "lines_cancelled"
    assert books(context, order.order_id).cancelled == {1: 2, 2: 0}
    shown = page_of(client, order, access)
    assert "(2 cancelled)" in shown
    assert "Those items are cancelled" in page_of(client, order, access + "&done=lines_cancelled")


def test_a_line_form_refused_says_why_and_changes_nothing(
    client: FlaskClient, context: Context
) -> None:
    order = placed(client, context, [(1500, 1), (900, 1)])
    access = access_of(context, order)
    url = f"/orders/{order.order_id}/page/lines/cancel"

    too_many = client.post(url, data={"access": access, "line_no": "1", "quantity": "5"})
    no_line = client.post(url, data={"access": access, "line_no": "7", "quantity": "1"})
    not_a_number = client.post(url, data={"access": access, "line_no": "1", "quantity": "x"})
    no_link = client.post(url, data={"line_no": "1", "quantity": "1"})
    foreign = client.post(
        f"/orders/{uuid.uuid4()}/page/lines/cancel",
        data={"access": access, "line_no": "1", "quantity": "1"},
    )

    assert done_of(too_many) == done_of(no_line) == "lines_not_cancellable"
    assert not_a_number.status_code == 422
    assert not_a_number.get_json()["errors"][0]["field"] == "quantity"
    assert no_link.status_code == 401
    assert foreign.status_code == 404
    whole = client.post(url, data={"access": access, "line_no": "1", "quantity": "1"})
    assert done_of(whole) == "lines_cancelled"
    last = client.post(url, data={"access": access, "line_no": "2", "quantity": "1"})
    assert done_of(last) == "cancelled"  # nothing was left: the whole order went
