"""`flask --app intake ops ...`: stuck orders, re-drives, an order's story, the dead letters,
and pickup orders handed over at the warehouse."""

from __future__ import annotations

import json
import uuid
from typing import Any

import click

from intake.cli import DatabaseGroup
from intake.ops_dlq import dlq
from intake.ops_holds import register as register_holds
from intake.ops_lines import register as register_line_cancels
from intake.ops_pause import register
from intake.ops_returns import receive_return_command
from intake.ops_text import age, moment, table
from intake.runtime import runtime
from models.domain.clock import utcnow
from models.domain.lifecycle import OrderStatus
from models.services.change_status import IllegalTransition, change_status
from models.services.story import story_of
from models.services.stuck import Redriven, list_stuck, redrive

ops_cli = DatabaseGroup("ops", help="Operate the fleet: stuck orders, dead letters, stories.")
ops_cli.add_command(dlq)
ops_cli.add_command(receive_return_command)
register(ops_cli)
register_holds(ops_cli)
register_line_cancels(ops_cli)

older_than_option = click.option(
    "--older-than",
    type=click.IntRange(min=0),
    help="Seconds in its state; STEP_SLA_SECONDS by default.",
)


def _older_than(seconds: int | None) -> int:
    return runtime().settings.step_sla_seconds if seconds is None else seconds


@ops_cli.command("stuck")
@older_than_option
def stuck(older_than: int | None) -> None:
    """Orders received, allocated or paid for longer than the SLA, and what waits for them."""
    now = utcnow()
    rows = [
        [
            s.order_id,
            s.status,
            age(s.age_seconds(now)),
            s.next_step or "-",
            "; ".join(_waiting(w.what, w.attempts, w.last_error) for w in s.pending)
            or "nothing (the watchdog re-drives it)",
        ]
        for s in list_stuck(runtime().sessions, older_than_seconds=_older_than(older_than))
    ]
    table(["ORDER", "STATUS", "AGE", "NEXT STEP", "PENDING"], rows)


def _waiting(what: str, attempts: int, error: str | None) -> str:
    said = f"{what} (attempts {attempts}"
    return f"{said}, last error: {error[:60]})" if error else f"{said})"


@ops_cli.command("redrive")
@click.argument("order_ids", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every order `ops stuck` lists.")
@older_than_option
@click.option("--dry-run", is_flag=True, help="Say what would be asked for; change nothing.")
def redrive_orders(
    order_ids: tuple[str, ...], every: bool, older_than: int | None, dry_run: bool
) -> None:
    """Ask again for the next step of orders, the way the watchdog does; twice asks once."""
    if every == bool(order_ids):
        raise click.UsageError("name ORDER_ID... or --all, not both")
    rt = runtime()
    if every:
        found = list_stuck(rt.sessions, older_than_seconds=_older_than(older_than))
        order_ids = tuple(str(s.order_id) for s in found)
    done = redrive(rt.work, list(order_ids), dry_run=dry_run)
    table(
        ["ORDER", "STATUS", "STEP", "OUTCOME"],
        [[r.order_id, r.status or "-", r.step or "-", r.outcome.value] for r in done],
    )
    refused = [r for r in done if r.outcome in (Redriven.UNKNOWN, Redriven.NOT_MOVING)]
    if refused:
        said = ", ".join(f"{r.order_id} ({r.outcome.value})" for r in refused)
        raise click.ClickException(f"not re-driven: {said}")


@ops_cli.command("collect")
@click.argument("order_id")
@click.option("--by", "who", default="operations", help="Who handed it over, for the timeline.")
def collect(order_id: str, who: str) -> None:
    """Record that the customer collected a pickup order: its units leave the shelf."""
    try:
        with runtime().work() as session:
            change = change_status(
                session,
                uuid.UUID(order_id),
                OrderStatus.COLLECTED,
                reason="collected at the warehouse",
                actor=f"staff {who}",
                now=utcnow(),
            )
    except (ValueError, LookupError):
        raise click.ClickException(f"no order {order_id}") from None
    except IllegalTransition as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"order {order_id}: {'collected' if change.changed else 'collected before'}")


@ops_cli.command("story")
@click.argument("order_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
def story(order_id: str, as_json: bool) -> None:
    """An order's whole story: timeline, allocation, payment, parcels, mails, what is pending."""
    told = story_of(runtime().sessions, order_id)
    if told is None:
        raise click.ClickException(f"no order {order_id}")
    if as_json:
        click.echo(json.dumps(told, indent=2))
        return
    _tell(told)


def _tell(told: dict[str, Any]) -> None:
    order = told["order"]
    click.echo(f"order     {order['id']}")
    click.echo(f"status    {order['status']} (updated {moment(order['updated_at'])})")
    to = order["ship_to"] if order["ship_to"].startswith("pickup") else f"to {order['ship_to']}"
    click.echo(f"customer  {order['customer_email']}, {to}")
    click.echo(f"total     {order['total']} {order['currency']}, {order['delivery_method']}")
    lines = ", ".join(f"{number} x{quantity}" for number, quantity in order["lines"])
    click.echo(f"lines     {lines}")
    click.echo("")
    table(
        ["WHEN", "WHAT", "DETAIL"],
        [[moment(e["at"]), e["what"], e["detail"]] for e in told["timeline"]],
    )
    if told["payments"]:
        click.echo("")
    for payment in told["payments"]:
        which = "payment  " if payment["part"] == 1 else f"part {payment['part']}   "
        click.echo(
            f"{which} {payment['status']}, {payment['amount']} {payment['currency']}, "
            f"attempts {payment['attempts']}, gateway {payment['gateway_id'] or '-'}, "
            f"refund {payment['refund_id'] or '-'}"
        )
    click.echo("")
    mails = [[m["kind"], m["status"], m["attempts"], m["last_error"] or ""] for m in told["mails"]]
    table(["MAIL", "STATUS", "ATTEMPTS", "LAST ERROR"], mails)
    if told["pending"]:
        click.echo("")
        pending = [
            [p["what"], " ".join(map(str, p["args"])), p["attempts"], moment(p["due_at"]),
             "given up" if p["failed_at"] else ""]
            for p in told["pending"]
        ]  # fmt: skip
        table(["PENDING", "ARGS", "ATTEMPTS", "DUE", ""], pending)
