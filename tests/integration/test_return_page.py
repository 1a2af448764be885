"""Returns on the order page: the form for the link's holder, the redirect naming the RMA
number, the returns listed with their labels, and the form's refusals."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.links import access_for
from tests.follow_up_support import run_follow_ups
from tests.integration.returns_support import Delivered, delivered, receive
from tests.integration.test_order_links import altered
from tests.integration.test_order_page import BROWSER


def _access(context: Context, order: Delivered) -> str:
    secret = context.settings.order_token_secret.get_secret_value()
    return access_for(secret, order.order_id, utcnow(), 1)


def test_the_page_starts_a_return_and_comes_back_naming_its_rma_number(
    client: FlaskClient, context: Context
) -> None:
    order = delivered(client, context, units=3)
    access = _access(context, order)
    page = client.get(f"/orders/{order.order_id}?access={access}", headers={"Accept": BROWSER})
    html = page.get_data(as_text=True)
    assert "<legend>Start a return</legend>" in html
    assert '<label for="quantity_1">' in html
    assert 'max="3"' in html

    done = client.post(
        f"/orders/{order.order_id}/page/return",
        data={"access": access, "quantity_1": "2", "reason": "damaged", "note": "box crushed"},
    )
    run_follow_ups(context, order.order_id)

    assert done.status_code == 303
    query = parse_qs(urlsplit(done.headers["Location"]).query)
    assert query["done"] == ["return_opened"]
    rma = query["rma"][0]
    shown = client.get(done.headers["Location"], headers={"Accept": BROWSER}).get_data(as_text=True)
    assert f"Your return {rma} is open" in shown
    assert re.search(rf'<td class="rma">{rma}</td>\s*<td>Waiting for the parcel</td>', shown)
    assert 'max="1"' in shown
    listed = client.get(f"/orders/{order.order_id}/returns", headers=order.headers).get_json()
    (ret,) = listed["returns"]
    assert (ret["rma_number"], ret["reason"], ret["note"]) == (rma, "damaged", "box crushed")
    assert ret["label"]["tracking_url"] in shown


def test_the_form_says_why_when_no_return_can_be_opened(
    client: FlaskClient, context: Context
) -> None:
    order = delivered(client, context, units=1)
    access = _access(context, order)
    url = f"/orders/{order.order_id}/page/return"

    nothing = client.post(url, data={"access": access, "quantity_1": "0", "reason": "other"})
    too_many = client.post(url, data={"access": access, "quantity_1": "2", "reason": "other"})
    hostile = client.post(url, data={"access": access, "quantity_1": "-1", "reason": "\x00"})

    assert [
        parse_qs(urlsplit(r.headers["Location"]).query)["done"] for r in (nothing, too_many)
    ] == [
        ["return_empty"],
        ["return_refused"],
    ]
    assert hostile.status_code == 303
    page = client.get(too_many.headers["Location"], headers={"Accept": BROWSER})
    assert "cannot be returned" in page.get_data(as_text=True)


def test_the_return_form_refuses_a_missing_forged_or_foreign_link_and_hides_when_done(
    client: FlaskClient, context: Context
) -> None:
    mine, other = delivered(client, context, units=1), delivered(client, context, units=1)
    url = f"/orders/{mine.order_id}/page/return"
    form = {"quantity_1": "1", "reason": "other"}

    missing = client.post(url, data=form)
    forged = client.post(url, data=form | {"access": altered(_access(context, mine))})
    foreign = client.post(url, data=form | {"access": _access(context, other)})
    as_json = client.post(url, json=form | {"access": _access(context, mine)})
    with_token = client.get(
        f"/orders/{mine.order_id}", headers=mine.headers | {"Accept": BROWSER}
    ).get_data(as_text=True)

    assert (missing.status_code, missing.mimetype) == (401, "application/problem+json")
    assert forged.status_code == foreign.status_code == 404
    assert as_json.status_code == 415
    assert "Start a return" not in with_token
    access = _access(context, mine)
    done = client.post(url, data=form | {"access": access})
    rma = parse_qs(urlsplit(done.headers["Location"]).query)["rma"][0]
    receive(client, context, mine, rma)
    page = client.get(done.headers["Location"], headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "Start a return" not in page
    assert "<td>Received</td>" in page
    assert "Return opened" in page
    assert "Return received" in page
