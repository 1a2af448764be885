"""What a mail about a part of a partially shipped order shows: that part's lines, what is
still to follow, and what was cancelled when a later part could not be paid for."""

from __future__ import annotations

from typing import Any

from models.domain.mail_parts import part_of
from models.store.mail_claims import ClaimedMail


def _line(units: int, line: dict[str, Any]) -> str:
    name = line["name"] or line["article_number"]
    return f"{units} x {name} ({line['article_number']})"


def part_fields(claimed: ClaimedMail, kind: str) -> dict[str, Any]:
    """The part fields of an EmailView; empty for a mail about the whole order."""
    part = part_of(kind)
    if part is None:
        return {}
    lines = claimed.lines
    waiting = [(line["quantity"] - line["cancelled"] - line["shipped"], line) for line in lines]
    return {
        "part": part,
        "part_lines": tuple(_line(line["in_part"], line) for line in lines if line["in_part"]),
        "waiting_lines": tuple(_line(units, line) for units, line in waiting if units > 0),
        "part_cancelled_lines": tuple(
            _line(line["cancelled"], line) for line in lines if line["cancelled"]
        ),
    }
