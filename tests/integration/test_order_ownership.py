"""The ownership matrix: guests A and B, customers C and D, staff who read and staff who write,
and nobody, over every route with an order id. Someone else's order is answered exactly as a
missing one, so order ids cannot be probed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from settings import Settings
from tests.integration.order_api_support import Cast, Placed, cast, place

OWNERS = ("guest A", "guest B", "customer C", "customer D")
CALLERS = (*OWNERS, "staff read", "staff write", "nobody")
READS = ("/orders/{id}", "/orders/{id}/events")


@pytest.fixture
def people(client: FlaskClient, settings: Settings, product: str) -> tuple[Cast, dict[str, Placed]]:
    return cast(client, settings, product)


def answer(response: Any) -> tuple[int, bytes, str | None]:
    return response.status_code, response.data, response.headers.get("Content-Type")


def expected_read(caller: str, owner: str) -> int:
    if caller == "nobody":
        return 401
    return 200 if caller in (owner, "staff read", "staff write") else 404


@pytest.mark.parametrize("route", READS)
def test_reads_open_only_the_callers_own_order_and_staffs(
    client: FlaskClient, people: tuple[Cast, dict[str, Placed]], route: str
) -> None:
    everyone, orders = people
    for caller in CALLERS:
        headers = everyone.headers[caller]
        missing = answer(client.get(route.format(id=uuid.uuid4()), headers=headers))
        for owner in OWNERS:
            got = client.get(route.format(id=orders[owner].order_id), headers=headers)
            assert got.status_code == expected_read(caller, owner), (caller, owner)
            if got.status_code == 404:
                assert answer(got) == missing, (caller, owner)


def expected_cancel(caller: str, owner: str) -> int:
    if caller == "nobody":
        return 401
    if caller == "staff read":
        return 403
    return 202 if caller in (owner, "staff write") else 404


@pytest.mark.parametrize("caller", CALLERS)
def test_cancel_is_for_the_owner_and_staff_who_write(
    client: FlaskClient, people: tuple[Cast, dict[str, Placed]], product: str, caller: str
) -> None:
    everyone, _ = people
    headers = everyone.headers[caller]
    missing = answer(client.post(f"/orders/{uuid.uuid4()}/cancel", headers=headers))
    for owner in OWNERS:
        # A fresh order each time: a cancel that is allowed changes it.
        account = everyone.tokens.get(owner)
        target = place(client, product, account)
        if owner in everyone.tokens or owner != caller:
            own = everyone.headers[caller]
        else:
            own = target.headers  # a guest's order token opens only the order it came with
        got = client.post(f"/orders/{target.order_id}/cancel", headers=own)
        assert got.status_code == expected_cancel(caller, owner), (caller, owner)
        if got.status_code == 404:
            assert answer(got) == missing, (caller, owner)


def test_status_and_tracking_changes_are_for_staff_who_write_alone(
    client: FlaskClient, people: tuple[Cast, dict[str, Placed]]
) -> None:
    everyone, orders = people
    status = {"status": "delivered"}
    tracking = {"tracking_number": "1Z8X4F2A0300000001", "status": "delivered"}
    for caller in CALLERS:
        headers = everyone.headers[caller]
        for owner in OWNERS:
            url = f"/orders/{orders[owner].order_id}"
            moved = client.patch(f"{url}/status", json=status, headers=headers)
            tracked = client.patch(f"{url}/tracking", json=tracking, headers=headers)
            if caller == "staff write":
                # Let in: a received order cannot be delivered by hand (409), and no parcel
                # carries the number (404 naming it).
                assert moved.status_code == 409, owner
                assert tracked.get_json()["errors"][0]["field"] == "tracking_number"
            else:
                want = 401 if caller == "nobody" else 403
                assert moved.status_code == want, (caller, owner)
                assert tracked.status_code in (401, 403), (caller, owner)


def test_a_malformed_order_id_is_answered_as_a_missing_one(
    client: FlaskClient, people: tuple[Cast, dict[str, Placed]]
) -> None:
    everyone, _ = people
    for caller in ("guest A", "customer C", "staff read"):
        headers = everyone.headers[caller]
        missing = answer(client.get(f"/orders/{uuid.uuid4()}", headers=headers))
        assert answer(client.get("/orders/not-an-id", headers=headers)) == missing
        assert missing[0] == 404
