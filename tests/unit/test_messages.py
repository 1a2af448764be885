"""The `order.placed` document: what is sent comes back the same, and anything else is refused."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.domain.messages import (
    ORDER_PLACED,
    VERSION,
    MalformedMessage,
    OrderPlaced,
    parse_order_placed,
)

ORDER_ID = uuid.UUID("5f0c6f3e-8a55-4a8e-9d43-1b7f1c2d3e4f")
OCCURRED_AT = datetime(2024, 12, 31, 23, 59, 59, 123456, tzinfo=UTC)


def document(**changes: Any) -> dict[str, Any]:
    base = OrderPlaced(ORDER_ID, OCCURRED_AT).to_json()
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def test_the_document_names_its_type_and_version() -> None:
    assert OrderPlaced(ORDER_ID, OCCURRED_AT).to_json() == {
        "type": "order.placed",
        "version": 1,
        "order_id": "5f0c6f3e-8a55-4a8e-9d43-1b7f1c2d3e4f",
        "occurred_at": "2024-12-31T23:59:59.123456+00:00",
    }


def test_a_sent_message_parses_back_to_the_same_event() -> None:
    event = OrderPlaced(ORDER_ID, OCCURRED_AT)
    assert parse_order_placed(json.dumps(event.to_json())) == event


@given(
    st.uuids(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))])),
)
def test_any_event_survives_the_round_trip(order_id: uuid.UUID, occurred_at: datetime) -> None:
    event = OrderPlaced(order_id, occurred_at)
    parsed = parse_order_placed(json.dumps(event.to_json()))
    assert parsed == event
    assert parsed.occurred_at.utcoffset() == occurred_at.utcoffset()


def test_extra_fields_from_a_newer_sender_are_ignored() -> None:
    parsed = parse_order_placed(json.dumps(document(trace_id="abc")))
    assert parsed.order_id == ORDER_ID


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("", "not JSON"),
        ("{", "not JSON"),
        ("order.placed", "not JSON"),
        ("[]", "not a JSON object"),
        (json.dumps([document()]), "not a JSON object"),
        ("null", "not a JSON object"),
        ('"order.placed"', "not a JSON object"),
        ("42", "not a JSON object"),
        (json.dumps(document(type="order.shipped")), "unknown type"),
        (json.dumps(document(type=...)), "unknown type"),
        (json.dumps(document(version=2)), "unsupported version"),
        (json.dumps(document(version=0)), "unsupported version"),
        (json.dumps(document(version="1")), "unsupported version"),
        (json.dumps(document(version=None)), "unsupported version"),
        (json.dumps(document(version=...)), "unsupported version"),
        (json.dumps(document(order_id=...)), "bad field"),
        (json.dumps(document(order_id="not-a-uuid")), "bad field"),
        (json.dumps(document(order_id="5f0c6f3e-8a55-4a8e-9d43")), "bad field"),
        (json.dumps(document(order_id=None)), "bad field"),
        (json.dumps(document(order_id=12345)), "bad field"),
        (json.dumps(document(occurred_at=...)), "bad field"),
        (json.dumps(document(occurred_at="yesterday")), "bad field"),
        (json.dumps(document(occurred_at="2024-13-01T00:00:00+00:00")), "bad field"),
        (json.dumps(document(occurred_at="")), "bad field"),
    ],
)
def test_a_malformed_message_is_refused_saying_why(body: str, why: str) -> None:
    with pytest.raises(MalformedMessage, match=why):
        parse_order_placed(body)


def test_a_malformed_message_is_a_value_error_for_callers_that_only_know_that() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the subclass relationship is the point
        parse_order_placed("[]")


def test_a_deeply_nested_body_is_malformed_rather_than_a_crash() -> None:
    with pytest.raises(MalformedMessage):
        parse_order_placed("[" * 100_000)


def test_a_boolean_version_is_refused() -> None:
    with pytest.raises(MalformedMessage):
        parse_order_placed(json.dumps(document(version=True)))


def test_the_constants_match_the_document() -> None:
    assert (ORDER_PLACED, VERSION) == ("order.placed", 1)
