"""`flask --app intake ops holds|release|cancel`: orders held for review, released to be
charged, or cancelled (README "Holds")."""

from __future__ import annotations

import uuid

import click
from flask.cli import with_appcontext

from intake.cli import actor
from intake.ops_text import age, moment, table
from intake.runtime import runtime
from models.domain.clock import utcnow
from models.services.cancel import CannotCancel, cancel_order
from models.services.holds import CannotHold, release_by_hand
from models.store.holds import held_orders


def _order_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise click.ClickException(f"no order {value}") from None


@click.command("holds")
@with_appcontext
def holds_command() -> None:
    """Orders on hold, the longest held first: why, for how long, until when."""
    now = utcnow()
    with runtime().sessions() as session:
        rows = [
            [o.id, o.hold_reason, age(int((now - o.held_at).total_seconds())) if o.held_at
             else "-", moment(o.hold_until), o.total, o.currency, o.hold_note or ""]
            for o in held_orders(session)
        ]  # fmt: skip
    table(["ORDER", "REASON", "HELD FOR", "UNTIL", "TOTAL", "CURRENCY", "NOTE"], rows)


@click.command("release")
@with_appcontext
@click.argument("order_id")
def release_command(order_id: str) -> None:
    """Release a held order: it goes on to be charged, once."""
    try:
        with runtime().work() as session:
            done = release_by_hand(session, _order_id(order_id), by=actor(), now=utcnow())
    except LookupError:
        raise click.ClickException(f"no order {order_id}") from None
    except CannotHold as exc:
        raise click.ClickException(str(exc)) from None
    said = f"released ({done.reason}), charge asked for" if done.changed else "released before"
    click.echo(f"order {order_id}: {said}")


@click.command("cancel")
@with_appcontext
@click.argument("order_id")
@click.option("--reason", default="cancelled by operations", help="For the timeline.")
def cancel_command(order_id: str, reason: str) -> None:
    """Cancel an order that has not shipped (a held one too): stock released, refund if
    paid, the customer mailed."""
    try:
        with runtime().work() as session:
            done = cancel_order(
                session, _order_id(order_id), reason=reason[:200], actor=actor(), now=utcnow()
            )
    except LookupError:
        raise click.ClickException(f"no order {order_id}") from None
    except CannotCancel as exc:
        raise click.ClickException(str(exc)) from None
    refund = ", refund queued" if done.refund else ""
    said = "cancelled before" if done.already else f"cancelled{refund}"
    click.echo(f"order {order_id}: {said}, {done.units_released} units released")


def register(group: click.Group) -> None:
    """Add holds, release and cancel to the ops group."""
    for command in (holds_command, release_command, cancel_command):
        group.add_command(command)
