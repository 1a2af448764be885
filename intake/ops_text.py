"""Plain-text tables for `flask --app intake ops ...`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import click


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows under their headers in columns, or say there are none."""
    if not rows:
        click.echo("(none)")
        return
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def age(seconds: int) -> str:
    """A duration as an operator reads it: 45s, 12m, 3h 5m, 2d 4h."""
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours = seconds // 60, seconds // 3600
    if hours == 0:
        return f"{minutes}m"
    if hours < 24:
        return f"{hours}h {minutes % 60}m"
    return f"{hours // 24}d {hours % 24}h"


def moment(value: datetime | str | None) -> str:
    """A time to the second, without its offset (every time here is UTC)."""
    if value is None:
        return "-"
    text = value.isoformat() if isinstance(value, datetime) else value
    return text.replace("T", " ")[:19]
