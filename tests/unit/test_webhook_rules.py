"""The webhook rules: the signature recipe, what is retried, what an answer makes of a delivery."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from models.domain.webhooks import (
    EVENT_TYPES,
    TIMELINE_TYPES,
    event_body,
    retried,
    signature_header,
    verify,
)
from models.services.webhook_post import Answer
from models.services.webhooks import outcome_of

SECRET = "whsec_unit"
BODY = event_body(7, "order.paid", "2026-12-01T00:00:00Z", {"order_id": "o-1"})


def test_the_header_is_stripes_recipe() -> None:
    header = signature_header(SECRET, 1_700_000_000, BODY)

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_a_signature_verifies_only_with_its_secret_body_and_time() -> None:
    header = signature_header(SECRET, 1_700_000_000, BODY)

    assert verify(SECRET, header, BODY, now=1_700_000_100)
    assert not verify("whsec_other", header, BODY, now=1_700_000_100)
    assert not verify(SECRET, header, BODY + b" ", now=1_700_000_100)
    assert not verify(SECRET, header, BODY, now=1_700_000_000 + 301)
    assert not verify(SECRET, "v1=abc", BODY, now=1_700_000_000)


@pytest.mark.parametrize(
    ("status", "again"),
    [(None, True), (500, True), (503, True), (408, True), (429, True), (400, False), (410, False)],
)
def test_timeouts_5xx_408_and_429_are_retried_other_4xx_not(
    status: int | None, again: bool
) -> None:
    assert retried(status) is again


@pytest.mark.parametrize(
    ("status", "attempt", "outcome"),
    [
        (200, 1, "succeeded"),
        (204, 3, "succeeded"),
        (404, 1, "failed"),
        (301, 1, "retry"),
        (500, 1, "retry"),
        (None, 4, "retry"),
        (500, 5, "exhausted"),
    ],
)
def test_each_answer_ends_or_retries_the_delivery(
    status: int | None, attempt: int, outcome: str
) -> None:
    assert outcome_of(Answer(status, 5), attempt, max_attempts=5) == outcome


def test_every_timeline_kind_maps_to_a_public_event_type() -> None:
    assert set(TIMELINE_TYPES.values()) <= set(EVENT_TYPES)
    assert TIMELINE_TYPES["received"] == "order.placed"
    assert TIMELINE_TYPES["return_received"] == "order.returned"
    assert (TIMELINE_TYPES["held"], TIMELINE_TYPES["hold_released"]) == (
        "order.held",
        "order.released",
    )
