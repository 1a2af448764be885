"""`flask --app intake ops pause|resume|paused`: hold a step's queue without losing its work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from kombu.exceptions import OperationalError as BrokerUnavailable

from bootstrap import build_queue_control
from intake.cli import actor
from intake.ops_text import moment, table
from intake.runtime import runtime
from models.domain.tasks import STEP_QUEUES
from models.ports import QueueControl
from models.services.pausing import Switched, pause_step, pauses, resume_step

step_argument = click.argument("step", type=click.Choice(sorted(STEP_QUEUES)))


@contextmanager
def _control(then: str) -> Iterator[QueueControl]:
    control = build_queue_control(runtime().settings)
    try:
        yield control
    except (BrokerUnavailable, OSError) as exc:
        raise click.ClickException(f"broker unavailable: {exc}; {then}") from None
    finally:
        control.close()


def _said(done: Switched, verb: str) -> str:
    workers = ", ".join(done.workers) or "none running"
    return f"{verb} queue {done.queue} (steps {', '.join(done.steps)}); workers told: {workers}"


def register(group: click.Group) -> None:
    """Add pause, resume and paused to the ops group."""

    @group.command("pause")
    @step_argument
    @click.option("--reason", required=True, help="Why, for whoever finds it paused.")
    def pause_command(step: str, reason: str) -> None:
        """Pause STEP's queue: its tasks wait in Redis and its follow-ups in PostgreSQL."""
        rt = runtime()
        with _control("the pause is recorded: run it again to tell the workers") as control:
            done = pause_step(rt.work, control, step, by=actor(), reason=reason)
        click.echo(_said(done, "paused" if done.changed else "still paused"))

    @group.command("resume")
    @step_argument
    def resume_command(step: str) -> None:
        """Resume STEP's queue: the workers consume it again, the relay publishes its rows."""
        rt = runtime()
        with _control("still paused: run it again") as control:
            done: Switched = resume_step(rt.work, control, step)
        if not done.changed:
            raise click.ClickException(f"queue {done.queue} of {step} is not paused")
        click.echo(_said(done, "resumed"))

    @group.command("paused")
    def paused_command() -> None:
        """The paused queues: since when, by whom, why, which workers stopped consuming them."""
        rows = [
            [p.queue, ",".join(p.steps), moment(p.paused_at), p.paused_by, p.reason,
             ",".join(p.workers) or "-"]
            for p in pauses(runtime().work)
        ]  # fmt: skip
        table(["QUEUE", "STEPS", "SINCE", "BY", "REASON", "WORKERS"], rows)
