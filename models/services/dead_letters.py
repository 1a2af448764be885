"""The dead-letter queue for operations: look without consuming, replay once the send is done.

A look holds every dead letter for a moment (so each is seen once, however many there are)
and hands them all back at once; one a crashed look never hands back reappears by itself when
its hold runs out. A replay sends the body to the orders queue first and deletes the dead
letter only after that send succeeded: a crash in between leaves the letter in the dead-letter
queue and its copy on the orders queue, so at worst it is replayed twice. The dispatcher
starts an order once (`dispatched_at` is set by one guarded UPDATE) and every follow-up it
records has a dedupe key, so the second copy changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from models.ports import DeadLetter, DeadLetters

# Seconds a look or a replay hides the dead letters from anyone else; handed back sooner.
HOLD_SECONDS = 60


def about(letter: DeadLetter) -> tuple[str, str]:
    """The message's type and the order it names, as far as its body can be read."""
    try:
        document = json.loads(letter.body)
    except ValueError:
        return "unreadable", ""
    if not isinstance(document, dict):
        return "unreadable", ""
    return str(document.get("type", "?")), str(document.get("order_id", ""))


def look(queue: DeadLetters, *, hold_seconds: int = HOLD_SECONDS) -> list[DeadLetter]:
    """Every dead letter, left in the dead-letter queue."""
    held = queue.hold_dead_letters(hold_seconds=hold_seconds)
    queue.release(held)
    return held


def find(queue: DeadLetters, message_id: str) -> DeadLetter | None:
    """One dead letter by its message id, left in the dead-letter queue; None if not there."""
    return next((letter for letter in look(queue) if letter.message_id == message_id), None)


class Replay(StrEnum):
    """What became of one dead letter asked to be replayed."""

    REPLAYED = "replayed"
    WOULD_REPLAY = "would replay"
    NOT_FOUND = "not found"


@dataclass(frozen=True)
class Replayed:
    """One dead letter's replay: its id, the outcome, the new message's id when sent."""

    message_id: str
    outcome: Replay
    new_message_id: str = ""
    order_id: str = ""


def replay(
    queue: DeadLetters, message_ids: Sequence[str] | None, *, dry_run: bool = False
) -> list[Replayed]:
    """Send dead letters (the named ones, or all with None) back to the orders queue.

    Each is deleted from the dead-letter queue only after its send succeeded. With
    `dry_run` nothing is sent or deleted: the answer says what would be.
    """
    held = queue.hold_dead_letters(hold_seconds=HOLD_SECONDS)
    by_id = {letter.message_id: letter for letter in held}
    wanted = list(by_id) if message_ids is None else list(dict.fromkeys(message_ids))
    dropped: set[str] = set()
    done: list[Replayed] = []
    try:
        for message_id in wanted:
            letter = by_id.get(message_id)
            if letter is None:
                done.append(Replayed(message_id, Replay.NOT_FOUND))
                continue
            order_id = about(letter)[1]
            if dry_run:
                done.append(Replayed(message_id, Replay.WOULD_REPLAY, order_id=order_id))
                continue
            sent = queue.send_back(letter)
            queue.drop(letter)  # only now: a crash before this replays it twice, harmlessly
            dropped.add(message_id)
            done.append(Replayed(message_id, Replay.REPLAYED, sent, order_id))
    finally:
        queue.release([letter for letter in held if letter.message_id not in dropped])
    return done
