"""The order page in headless Chromium, opened from the link in a real mail of the real system."""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from intake.signatures import sign
from models.domain.clock import utcnow
from models.domain.mail import money
from settings import Settings
from tests.e2e import system
from tests.factories import CHICAGO, NEWARK, add_product, add_warehouse, order_body
from tests.infra import Mailbox, message_text

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# What a headless Chromium needs on a machine with no display and no network but loopback.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs Debian's when run as root")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def mailed_link(mailbox: Mailbox, order_id: str, subject: str) -> str:
    """The order link in the order's mail whose subject says `subject`, once it has come."""

    def find() -> str | None:
        for message in mailbox.for_order(order_id):
            if subject in message["Subject"]:
                found = re.search(
                    rf"https?://\S+/orders/{order_id}\?access=[\w.-]+", message_text(message)
                )
                return found.group(0) if found else None
        return None

    link: str = system.wait_for(find, 60)
    return link


def status_of(placed: dict[str, Any]) -> str:
    headers = {"Authorization": f"Bearer {placed['order_token']}"}
    status: str = requests.get(placed["status_url"], headers=headers, timeout=5).json()["status"]
    return status


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_shipped_split_order_shows_both_parcels_on_a_phone(
    stack: dict[str, str], sessions: sessionmaker[Session], mailbox: Mailbox, phone: Page
) -> None:
    lamp, rug = add_product(sessions, price=4500), add_product(sessions, price=12000)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 3})
    add_warehouse(sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={rug: 3})
    placed = system.place(stack["api"], order_body([(lamp, 1), (rug, 2)]))
    view = system.final_view(placed)
    assert view["status"] == "shipped"
    link = mailed_link(mailbox, placed["order_id"], "on its way")

    phone.goto(link)

    expect(phone.get_by_role("heading", level=1)).to_have_text(f"Order {placed['order_id'][:8]}")
    expect(phone.locator("[data-status]")).to_have_text("On its way")
    parcels = phone.get_by_role("region", name="Parcels")
    for shipment in view["shipments"]:
        tracking = parcels.get_by_role("link", name=shipment["tracking_number"])
        expect(tracking).to_have_attribute("href", shipment["tracking_url"])
    expect(parcels.get_by_role("row")).to_have_count(3)  # the header and two parcels
    total = money(view["costs"]["total"], "USD")  # 45.00 + 2 x 120.00 and the delivery
    expect(phone.get_by_role("row", name=re.compile("^Total"))).to_contain_text(total)
    expect(phone.get_by_role("button")).to_have_count(0)
    assert fits_the_screen(phone)


def test_a_held_order_is_cancelled_with_the_button_on_its_page(
    stack: dict[str, str], sessions: sessionmaker[Session], mailbox: Mailbox, phone: Page
) -> None:
    chair = add_product(sessions)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={chair: 0})
    placed = system.place(stack["api"], order_body([(chair, 1)]))
    link = mailed_link(mailbox, placed["order_id"], "backorder")

    phone.goto(link)
    expect(phone.locator("[data-status]")).to_have_text("Waiting for stock")
    phone.get_by_role("button", name="Cancel this order").click()

    expect(phone.get_by_role("status")).to_contain_text("Your order is cancelled")
    expect(phone.locator("[data-status]")).to_have_text("Cancelled")
    expect(phone.get_by_role("button")).to_have_count(0)
    assert status_of(placed) == "cancelled"
    phone.reload()  # the answer was a redirect: reloading shows the page, it cancels nothing
    expect(phone.locator("[data-status]")).to_have_text("Cancelled")
    assert fits_the_screen(phone)


def test_a_line_is_cancelled_with_its_button_on_the_page(
    stack: dict[str, str], sessions: sessionmaker[Session], mailbox: Mailbox, phone: Page
) -> None:
    chair, lamp = add_product(sessions), add_product(sessions)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={chair: 0, lamp: 0})
    placed = system.place(stack["api"], order_body([(chair, 3), (lamp, 1)]))
    link = mailed_link(mailbox, placed["order_id"], "backorder")

    phone.goto(link)
    expect(phone.locator("[data-status]")).to_have_text("Waiting for stock")
    chairs = phone.locator("tr.line[data-line='1']")
    chairs.get_by_label("Units to cancel").fill("2")
    chairs.get_by_role("button", name=f"Cancel units of Test {chair}").click()

    expect(phone.get_by_role("status")).to_contain_text("Those items are cancelled")
    expect(phone.locator("tr.line[data-line='1']")).to_contain_text("(2 cancelled)")
    expect(phone.locator("[data-status]")).to_have_text("Waiting for stock")
    headers = {"Authorization": f"Bearer {placed['order_token']}"}
    view = requests.get(placed["status_url"], headers=headers, timeout=5).json()
    assert [line["cancelled_quantity"] for line in view["lines"]] == [2, 0]
    mailed_link(mailbox, placed["order_id"], "We cancelled part of your order")
    assert fits_the_screen(phone)


def deliver(api: str, settings: Settings, tracking_number: str) -> None:
    """The carrier's signed event: the parcel was delivered a moment ago."""
    body = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "shipment.delivered",
            "tracking_number": tracking_number,
            "occurred_at": utcnow().isoformat(),
        }
    ).encode()
    secret = settings.carrier_webhook_secret.get_secret_value()
    headers = {"Carrier-Signature": sign(secret, body, int(time.time()))}
    response = requests.post(f"{api}/webhooks/carrier", data=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text


def test_a_delivered_order_starts_a_return_from_its_page_and_gets_the_label(
    stack: dict[str, str],
    settings: Settings,
    sessions: sessionmaker[Session],
    mailbox: Mailbox,
    phone: Page,
) -> None:
    lamp = add_product(sessions, price=4500)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 3})
    placed = system.place(stack["api"], order_body([(lamp, 2)]))
    view = system.final_view(placed)
    deliver(stack["api"], settings, view["shipments"][0]["tracking_number"])
    link = mailed_link(mailbox, placed["order_id"], "was delivered")

    phone.goto(link)
    form = phone.get_by_role("group", name="Start a return")
    form.get_by_label(re.compile(r"up to 2")).fill("1")
    form.get_by_label("Why are you sending it back?").select_option("damaged")
    form.get_by_label("Anything we should know?").fill("The shade is cracked")
    form.get_by_role("button", name="Start a return").click()

    notice = phone.get_by_role("status")
    expect(notice).to_contain_text(re.compile(r"Your return RMA-[0-9A-Z]{8} is open"))
    rma = re.search(r"RMA-[0-9A-Z]{8}", notice.inner_text())
    assert rma is not None
    returns = phone.get_by_role("region", name="Returns")
    expect(returns.get_by_role("cell", name=rma.group(0))).to_be_visible()
    mail = system.wait_for(
        lambda: [m for m in mailbox.for_order(placed["order_id"]) if "send back" in m["Subject"]],
        60,
    )
    text = message_text(mail[0])
    assert rma.group(0) in text
    phone.reload()
    label = returns.get_by_role("link")
    expect(label).to_have_count(1)
    assert label.inner_text() in text
    expect(form.get_by_label(re.compile(r"up to 1"))).to_be_visible()
    assert fits_the_screen(phone)
