"""The request id: sane or refused, and carried by every follow-up recorded while it is set."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from models.domain.follow_ups import REQUEST_ID, TASK, FollowUp, sane_request_id
from models.domain.messages import OrderPlaced, parse_message
from models.store.follow_ups import pending_row
from workers.adapters.publishers import TaskPublisher

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def request_id() -> Iterator[str]:
    token = REQUEST_ID.set("req-5f0c6f3e")
    yield "req-5f0c6f3e"
    REQUEST_ID.reset(token)


@pytest.mark.parametrize(
    "value", ["5f0c6f3e-8a55-4a8e-9d43-1b7f1c2d3e4f", "abc", "lb.1:42_x", "a" * 64]
)
def test_a_token_of_letters_digits_and_punctuation_is_a_sane_request_id(value: str) -> None:
    assert sane_request_id(value) == value


@pytest.mark.parametrize(
    "value", ["", "a" * 65, "ada@example.com", "two words", "line\nbreak", "é", None, 42]
)
def test_anything_else_is_refused_as_a_request_id(value: object) -> None:
    assert sane_request_id(value) is None


def row(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "topic": TASK,
        "subject": "o-1",
        "payload": {"task": "fulfillment.allocate", "args": ["o-1"]},
        "key": "k",
        "delay": 0.0,
        "publish_now": False,
        "lease": 40.0,
        "now": NOW,
    }
    return pending_row(**(values | overrides))


def test_a_follow_up_recorded_while_a_request_id_is_set_carries_it(request_id: str) -> None:
    assert row()["payload"] == {
        "task": "fulfillment.allocate",
        "args": ["o-1"],
        "request_id": request_id,
    }


def test_a_follow_up_recorded_without_a_request_id_has_no_such_field() -> None:
    assert "request_id" not in row()["payload"]


def test_the_request_id_in_a_queue_message_is_read_back_and_a_bad_one_dropped() -> None:
    document = OrderPlaced(uuid.uuid4(), NOW).to_json()

    assert parse_message(json.dumps(document | {"request_id": "req-1"})).request_id == "req-1"
    assert parse_message(json.dumps(document | {"request_id": "a b@c"})).request_id is None
    assert parse_message(json.dumps(document)).request_id is None


def test_a_task_is_sent_with_its_rows_request_id_in_its_headers() -> None:
    sent: list[dict[str, Any]] = []
    publisher = TaskPublisher(lambda name, **options: sent.append({"name": name, **options}))
    payload = {"task": "fulfillment.charge", "args": ["o-1"]}

    publisher.publish(
        [FollowUp(7, TASK, payload | {"request_id": "req-1"}), FollowUp(8, TASK, payload)]
    )

    assert sent[0]["headers"] == {"request_id": "req-1"}
    assert "headers" not in sent[1]
    assert [s["kwargs"] for s in sent] == [{"follow_up": 7}, {"follow_up": 8}]
