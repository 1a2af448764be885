"""What `make run` prints once the stack answers: a table of what runs where, and a first order."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

from settings import DEV_FLOWER_PASSWORD, Settings

EXAMPLE_ORDER = {
    "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
    "shipping_address": {
        "line1": "1 Main St",
        "city": "New York",
        "postal_code": "10001",
        "country": "US",
    },
    "delivery_method": "curbside",
    "payment_method": "pm_card_visa",
    "lines": [{"article_number": "493.857.51", "quantity": 1}],
}
RULE = "=" * 78
HEADER = ("component", "address", "pid", "runs", "notes")
EMPTY = "-"
# Columns are two spaces or more apart, and no cell holds two spaces: a row splits on them.
GAP = re.compile(r"\s{2,}")


@dataclass(frozen=True)
class Row:
    """One component of the stack: where it answers, its process, embedded or external."""

    component: str
    address: str
    pid: int | None = None
    runs: str = "embedded"
    notes: str = ""

    def cells(self) -> tuple[str, ...]:
        """The row's cells as printed, a dash for an empty one."""
        pid = EMPTY if self.pid is None else str(self.pid)
        cells = (self.component, self.address, pid, self.runs, self.notes)
        return tuple(GAP.sub(" ", cell) or EMPTY for cell in cells)


def start_table(rows: list[Row]) -> str:
    """The rows as aligned plain text under a header, for a terminal and for a parser alike."""
    lines = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(HEADER) - 1)]
    rule = (*("-" * width for width in widths), "-" * len(HEADER[-1]))
    return "\n".join(
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(line, [*widths, 0], strict=True))
        for line in [lines[0], rule, *lines[1:]]
    )


def parse_start_table(text: str) -> dict[str, Row]:
    """The rows of a whole start table found in `text`, by component (what the tests read).

    Nothing until the line after the table is there too: output read as it arrives may
    hold only the first rows so far.
    """
    rows: dict[str, Row] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if GAP.split(line.strip()) == list(HEADER):
            next(lines, None)
            break
    for line in lines:
        cells = GAP.split(line.strip())
        if len(cells) != len(HEADER):
            return rows
        name, address, pid, runs, notes = (cell if cell != EMPTY else "" for cell in cells)
        rows[name] = Row(name, address, int(pid) if pid else None, runs, notes)
    return {}


def flower_login(settings: Settings) -> str:
    """Flower's login as the table shows it: only the well-known development password in full."""
    password = settings.flower_password.get_secret_value()
    shown = password if password == DEV_FLOWER_PASSWORD else "<FLOWER_PASSWORD>"
    return f"login {settings.flower_user} / {shown}"


def banner(rows: list[Row], restart_note: str, api: str, demo: bool) -> str:
    """The ready banner: the table, whether data was kept, tokens, a first order."""
    ending = (
        "The demo runs now; its result table follows once it is done."
        if demo
        else "Place 300 demo orders: make demo.   Ctrl-C stops everything."
    )
    return "\n".join(
        [
            RULE,
            "Fulfillment is running.",
            start_table(rows),
            "",
            restart_note,
            "Tokens: an order's comes back from POST /orders (order_token); an admin one from",
            "  .venv/bin/python -m intake.tokens --subject you;  GET /metrics takes METRICS_TOKEN.",
            "",
            "Place an order:",
            curl_example(api),
            "",
            ending,
            RULE,
        ]
    )


def curl_example(api: str) -> str:
    """A ready-to-paste POST /orders with a fresh Idempotency-Key."""
    body = json.dumps(EXAMPLE_ORDER)
    return "\n".join(
        [
            f"  curl -sS -X POST {api}/orders \\",
            "    -H 'Content-Type: application/json' \\",
            f"    -H 'Idempotency-Key: \"{uuid.uuid4()}\"' \\",
            f"    -d '{body}'",
        ]
    )
