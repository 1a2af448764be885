"""`flask --app intake ops cancel-lines ORDER LINE_NO=UNITS ...`: cancel units of an order's
lines for a customer who asked by other means, as the API's line cancel does."""

from __future__ import annotations

import uuid

import click

from intake.runtime import runtime
from models.domain.clock import utcnow
from models.domain.mail import money
from models.services.cancel_lines import (
    CannotCancelLines,
    InvalidLines,
    LinesCancelled,
    PaymentInProgress,
    cancel_lines,
)
from models.tables.orders import Order


def _units(pairs: tuple[str, ...]) -> dict[int, int]:
    """LINE_NO=UNITS pairs as line number -> units; a usage error for anything else."""
    units: dict[int, int] = {}
    for pair in pairs:
        line, mark, count = pair.partition("=")
        if not mark or not line.isdigit() or not count.isdigit() or int(count) < 1:
            raise click.BadParameter(
                f"{pair!r}: write LINE_NO=UNITS, such as 1=2", param_hint="LINES"
            )
        if int(line) in units:
            raise click.BadParameter(f"line {line} is named twice", param_hint="LINES")
        units[int(line)] = int(count)
    return units


def _said(order_id: str, done: LinesCancelled, currency: str) -> str:
    what = ", ".join(f"{u} of line {n}" for n, u in sorted(done.units.items()))
    if done.whole_order:
        return f"order {order_id}: nothing was left, so the whole order was cancelled ({what})"
    refund = money(done.refund_amount, currency) if done.refund_amount else "none (not charged)"
    return (
        f"order {order_id}: cancelled {what}; {done.released} units back on the shelf; "
        f"refund {refund}"
    )


def register(group: click.Group) -> None:
    """Add cancel-lines to the ops group."""

    @group.command("cancel-lines")
    @click.argument("order_id")
    @click.argument("lines", nargs=-1, required=True)
    @click.option("--reason", default="cancelled by operations", help="For the timeline.")
    @click.option("--by", "who", default="operations", help="Who cancels, for the timeline.")
    def cancel_lines_command(order_id: str, lines: tuple[str, ...], reason: str, who: str) -> None:
        """Cancel UNITS of each LINE_NO=UNITS of an order not yet shipped: stock released, the
        money for them refunded, the customer mailed. Every unit left cancels the order."""
        units = _units(lines)
        try:
            key = uuid.UUID(order_id)
        except ValueError:
            raise click.ClickException(f"no order {order_id}") from None
        try:
            with runtime().work() as session:
                done = cancel_lines(
                    session, key, units, reason=reason[:200], actor=f"staff {who}", now=utcnow()
                )
                currency = str(session.get(Order, key).currency)  # type: ignore[union-attr]
        except LookupError:
            raise click.ClickException(f"no order {order_id}") from None
        except (PaymentInProgress, CannotCancelLines, InvalidLines) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(_said(order_id, done, currency))
