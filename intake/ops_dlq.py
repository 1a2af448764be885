"""`flask --app intake ops dlq ...`: look at dead letters without consuming them, replay them."""

from __future__ import annotations

import json
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError
from flask.cli import AppGroup

from bootstrap import build_dead_letters
from intake.ops_text import moment, table
from intake.runtime import runtime
from models.ports import DeadLetters
from models.services.dead_letters import Replay, about, find, look, replay


def _queue() -> DeadLetters:
    return build_dead_letters(runtime().settings)


class _QueueGroup(AppGroup):
    """Commands that report an unreachable or refusing SQS in one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (BotoCoreError, ClientError) as exc:
            raise click.ClickException(f"SQS unavailable: {exc}") from None


dlq = _QueueGroup("dlq", help="The dead-letter queue: list, show, replay; a look consumes nothing.")


@dlq.command("list")
def list_letters() -> None:
    """Every dead letter: id, when it was dead-lettered, receives, type, order, reason."""
    rows = []
    for letter in look(_queue()):
        kind, order_id = about(letter)
        reason = letter.reason or "(moved by SQS after too many receives)"
        rows.append(
            [
                letter.message_id,
                moment(letter.sent_at),
                letter.receive_count,
                kind,
                order_id,
                reason,
            ]
        )
    table(["MESSAGE ID", "DEAD-LETTERED", "RECEIVES", "TYPE", "ORDER", "REASON"], rows)


@dlq.command("show")
@click.argument("message_id")
def show(message_id: str) -> None:
    """One dead letter: its body, attributes, receive count and reason."""
    letter = find(_queue(), message_id)
    if letter is None:
        raise click.ClickException(f"no dead letter {message_id}")
    kind, order_id = about(letter)
    click.echo(f"message id     {letter.message_id}")
    click.echo(f"dead-lettered  {moment(letter.sent_at)}")
    click.echo(f"receives       {letter.receive_count}")
    click.echo(f"reason         {letter.reason or '(moved by SQS after too many receives)'}")
    click.echo(f"type           {kind}")
    click.echo(f"order          {order_id or '-'}")
    for name, value in sorted(letter.attributes.items()):
        click.echo(f"attribute      {name}={value}")
    try:
        body = json.dumps(json.loads(letter.body), indent=2)
    except ValueError:
        body = letter.body
    click.echo("body")
    click.echo(body)


@dlq.command("replay")
@click.argument("message_ids", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Replay every dead letter.")
@click.option("--dry-run", is_flag=True, help="Say what would be replayed; change nothing.")
def replay_letters(message_ids: tuple[str, ...], every: bool, dry_run: bool) -> None:
    """Send dead letters back to the orders queue; each leaves the DLQ once it is sent."""
    if every == bool(message_ids):
        raise click.UsageError("name MESSAGE_ID... or --all, not both")
    done = replay(_queue(), None if every else list(message_ids), dry_run=dry_run)
    rows = [[r.message_id, r.outcome.value, r.order_id, r.new_message_id] for r in done]
    table(["MESSAGE ID", "OUTCOME", "ORDER", "SENT AS"], rows)
    missing = [r.message_id for r in done if r.outcome is Replay.NOT_FOUND]
    if missing:
        raise click.ClickException(f"no dead letter {', '.join(missing)}")
