"""The order page: HTML for a browser on the mailed link, its cancel button, and its refusals."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.links import access_for
from models.tables.catalog import Product
from tests.integration.order_api_support import Placed, place
from tests.integration.test_order_links import altered

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def link_access(context: Context, placed: Placed) -> str:
    secret = context.settings.order_token_secret.get_secret_value()
    return access_for(secret, uuid.UUID(placed.order_id), utcnow(), 1)


def test_a_browser_on_the_link_gets_the_page_and_an_api_client_the_json(
    client: FlaskClient, context: Context, product: str
) -> None:
    placed = place(client, product)
    path = f"/orders/{placed.order_id}?access={link_access(context, placed)}"

    page = client.get(path, headers={"Accept": BROWSER})
    api = client.get(path, headers={"Accept": "application/json"})
    anything = client.get(path)

    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert f"Order {placed.order_id[:8]}" in html
    assert "Cancel this order" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert api.get_json()["order_id"] == anything.get_json()["order_id"] == placed.order_id
    assert page.headers["Vary"] == api.headers["Vary"] == "Accept"


def test_the_page_escapes_what_it_shows(
    client: FlaskClient, context: Context, sessions: sessionmaker[Session], product: str
) -> None:
    with sessions() as session, session.begin():
        session.execute(
            update(Product)
            .where(Product.article_number == product)
            .values(name='<script>alert("x")</script>')
        )
    placed = place(client, product)
    path = f"/orders/{placed.order_id}?access={link_access(context, placed)}"

    html = client.get(path, headers={"Accept": BROWSER}).get_data(as_text=True)

    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_the_cancel_button_cancels_and_comes_back_to_the_page_saying_so(
    client: FlaskClient, context: Context, product: str
) -> None:
    placed = place(client, product)
    access = link_access(context, placed)

    done = client.post(f"/orders/{placed.order_id}/page/cancel", data={"access": access})

    assert done.status_code == 303
    location = urlsplit(done.headers["Location"])
    assert location.path == f"/orders/{placed.order_id}"
    assert parse_qs(location.query) == {"access": [access], "done": ["cancelled"]}
    page = client.get(done.headers["Location"], headers={"Accept": BROWSER})
    html = page.get_data(as_text=True)
    assert "Your order is cancelled" in html
    assert 'data-status="cancelled"' in html
    assert "Cancel this order" not in html
    status = client.get(f"/orders/{placed.order_id}", headers=placed.headers).get_json()["status"]
    assert status == "cancelled"
    again = client.post(f"/orders/{placed.order_id}/page/cancel", data={"access": access})
    assert parse_qs(urlsplit(again.headers["Location"]).query)["done"] == ["not_cancellable"]


def test_a_page_opened_with_the_order_token_shows_no_button(
    client: FlaskClient, product: str
) -> None:
    placed = place(client, product)

    page = client.get(f"/orders/{placed.order_id}", headers=placed.headers | {"Accept": BROWSER})

    assert page.mimetype == "text/html"
    assert "Cancel this order" not in page.get_data(as_text=True)


def test_the_cancel_form_refuses_a_missing_forged_or_foreign_link(
    client: FlaskClient, context: Context, product: str
) -> None:
    mine, other = place(client, product), place(client, product)
    theirs = link_access(context, other)
    url = f"/orders/{mine.order_id}/page/cancel"

    missing = client.post(url, data={"reason": "no link"})
    forged = client.post(url, data={"access": altered(link_access(context, mine))})
    foreign = client.post(url, data={"access": theirs})
    as_json = client.post(url, json={"access": link_access(context, mine)})

    assert (missing.status_code, missing.mimetype) == (401, "application/problem+json")
    assert forged.status_code == foreign.status_code == 404
    assert forged.data == foreign.data
    assert as_json.status_code == 415
    status = client.get(f"/orders/{mine.order_id}", headers=mine.headers).get_json()["status"]
    assert status != "cancelled"
