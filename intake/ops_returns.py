"""`flask --app intake ops receive-return RMA [LINE=RECEIVED:ACCEPTED ...]`: staff at the
warehouse record what came back of a return."""

from __future__ import annotations

import re

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from intake.runtime import runtime
from models.domain.clock import utcnow
from models.domain.mail import money
from models.domain.returns import normalize_rma
from models.services.return_receipt import Count, receive_return
from models.services.returns import ReturnRefused
from models.tables.orders import Order
from models.tables.returns import OrderReturn

COUNT = re.compile(r"([0-9]{1,5})=([0-9]{1,5}):([0-9]{1,5})")


def _count(text: str) -> Count:
    found = COUNT.fullmatch(text)
    if found is None:
        raise click.BadParameter(f"{text!r}: write LINE=RECEIVED:ACCEPTED, such as 1=2:1")
    line_no, received, accepted = (int(part) for part in found.groups())
    return Count(line_no, received, accepted)


@click.command("receive-return")
@click.argument("rma")
@click.argument("counts", nargs=-1)
@click.option("--by", "who", default="operations", help="Who received it, for the timeline.")
@with_appcontext
def receive_return_command(rma: str, counts: tuple[str, ...], who: str) -> None:
    """Receive a return: every unit asked for came back and is accepted, or as counted per
    line (LINE=RECEIVED:ACCEPTED; a line left out came back empty). Twice receives once."""
    counted = [_count(text) for text in counts] or None
    number = normalize_rma(rma)
    with runtime().work() as session:
        found = session.execute(
            select(OrderReturn.order_id, Order.currency)
            .join(Order, Order.id == OrderReturn.order_id)
            .where(OrderReturn.rma_number == number)
        ).first()
        if found is None:
            raise click.ClickException(f"no return {rma}")
        try:
            receipt = receive_return(
                session, found[0], number, counted, actor=f"staff {who}", now=utcnow()
            )
        except ReturnRefused as exc:
            raise click.ClickException(str(exc)) from None
    if receipt.already:
        click.echo(f"return {number}: received before ({receipt.status}); nothing changed")
        return
    refund = money(receipt.refunded, found[1])
    click.echo(f"return {number} of order {found[0]}: {receipt.status}, refund {refund}")
