"""Return rules with no I/O: RMA numbers, dispositions, what a receipt makes of a return, and
how many units of a line may still go back."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest

from models.domain.returns import (
    RMA_PATTERN,
    Arrival,
    Counted,
    disposition_of,
    normalize_rma,
    receipt_error,
    receipt_status,
    returnable,
    rma_number,
)
from tests.unit.test_email_templates import VIEW
from workers.adapters.mail_templates import render_view

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=30)


def test_an_rma_number_is_rma_and_eight_crockford_characters_from_a_random_draw() -> None:
    numbers = {rma_number() for _ in range(200)}

    assert all(re.fullmatch(RMA_PATTERN, n) for n in numbers)
    assert len(numbers) == 200
    assert rma_number(0) == "RMA-00000000"
    assert rma_number(2**40 - 1) == "RMA-ZZZZZZZZ"
    assert not any(c in n[4:] for n in numbers for c in "ILOU")


def test_an_rma_number_typed_by_a_person_is_read_as_meant() -> None:
    assert normalize_rma(" rma-7qk2m9xd ") == "RMA-7QK2M9XD"
    assert normalize_rma("RMA-O1LI0000") == "RMA-01110000"


@pytest.mark.parametrize(
    ("reason", "disposition"),
    [
        ("damaged", "quarantine"),
        ("defective", "quarantine"),
        ("wrong_item", "restock"),
        ("not_as_described", "restock"),
        ("no_longer_needed", "restock"),
        ("other", "restock"),
    ],
)
def test_damaged_and_defective_units_are_quarantined_and_the_rest_restocked(
    reason: str, disposition: str
) -> None:
    assert disposition_of(reason) == disposition


@pytest.mark.parametrize(
    ("lines", "status"),
    [
        ([Counted(2, 2, 2), Counted(1, 1, 1)], "received"),
        ([Counted(2, 2, 1)], "partially_received"),
        ([Counted(3, 2, 2)], "partially_received"),
        ([Counted(2, 2, 2), Counted(1, 0, 0)], "partially_received"),
        ([Counted(2, 2, 0)], "refused"),
        ([Counted(2, 0, 0)], "refused"),
    ],
)
def test_a_receipt_is_received_partial_or_refused_by_what_was_accepted(
    lines: list[Counted], status: str
) -> None:
    assert receipt_status(lines) == status


def test_counts_that_cannot_be_are_named() -> None:
    assert receipt_error(2, 3, 0) == "received more than the 2 asked for"
    assert receipt_error(2, 1, 2) == "accepted more than the 1 received"
    assert receipt_error(2, -1, 0) == "must not be negative"
    assert receipt_error(2, 2, 2) is None


def _arrived(quantity: int, days_ago: float | None) -> Arrival:
    at = None if days_ago is None else NOW - timedelta(days=days_ago)
    return Arrival(1, 1, quantity, at)


def test_returnable_units_are_those_arrived_within_the_window_less_those_claimed() -> None:
    assert returnable([_arrived(3, 1)], 0, CUTOFF) == 3
    assert returnable([_arrived(3, 1)], 2, CUTOFF) == 1
    assert returnable([_arrived(3, 1)], 5, CUTOFF) == 0
    assert returnable([_arrived(3, None)], 0, CUTOFF) == 0
    assert returnable([_arrived(3, 31)], 0, CUTOFF) == 0
    # Two parcels, one of them too long ago: only the recent one's units may go back.
    assert returnable([_arrived(2, 40), _arrived(1, 2)], 0, CUTOFF) == 1
    assert returnable([_arrived(2, 40), _arrived(1, 2)], 2, CUTOFF) == 1
    assert returnable([_arrived(2, 40), _arrived(1, 2)], 3, CUTOFF) == 0


def test_the_return_mails_show_the_rma_number_the_label_and_the_outcome() -> None:
    view = dataclasses.replace(
        VIEW,
        rma_number="RMA-7QK2M9XD",
        return_carrier="UPS",
        return_tracking_number="1Z8X4F2A900000017",
        return_tracking_url="https://www.ups.com/track?tracknum=1Z8X4F2A900000017",
        return_to="Newark Store, 12 Market St, 07102 Newark, US",
        return_lines=("2 x Oak bed frame (493.857.51)",),
        return_status="partially_received",
        return_accepted=("1 x Oak bed frame (493.857.51)",),
        return_refused=("1 x Oak bed frame (493.857.51)",),
        return_refund="617.25 USD",
    )

    opened, received = render_view(view, "return_opened#3"), render_view(view, "return_received#3")

    for body in (opened.text, opened.html):
        assert "RMA-7QK2M9XD" in body
        assert "1Z8X4F2A900000017" in body
        assert "https://www.ups.com/track?tracknum=1Z8X4F2A900000017" in body
        assert "Newark Store, 12 Market St" in body
    for body in (received.text, received.html):
        assert "RMA-7QK2M9XD" in body
        assert "617.25 USD" in body
        assert "Not accepted" in body
    assert opened.subject.startswith("How to send back your return")
