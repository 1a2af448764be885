"""When the system is at rest: every order final, money settled, nothing pending, nothing moving."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tests.chaos.facts import Charge
from tests.chaos.statuses import FINAL, FULFILLED

CONFIRM_SECONDS = 5.0
POLL_SECONDS = 1.0
# At the deadline: how far back to count status changes, to tell a slow drain from a stall.
DRAINING_WINDOW = 15.0
# While waiting: how often to say what still keeps the system from rest.
TELL_EVERY_SECONDS = 10.0


@dataclass(frozen=True)
class Snapshot:
    """One look at the system from outside: statuses, the ledger, pending rows, mails."""

    statuses: Mapping[str, str]
    charges: tuple[Charge, ...]
    # Rows that mean work is owed (None: that table is not there to read).
    pending_rows: Mapping[str, int | None]
    mails: int
    client_pending: int

    def fingerprint(self) -> tuple[object, ...]:
        """Equal for two snapshots of a system in which nothing moved."""
        return (
            tuple(sorted(self.statuses.items())),
            tuple(sorted((c.order_id, c.amount, c.refunded) for c in self.charges)),
            tuple(sorted(self.pending_rows.items())),
            self.mails,
            self.client_pending,
        )


@dataclass(frozen=True)
class Rest:
    """How long after the last fault the system came to rest; None if not by the deadline."""

    seconds: float | None
    unsettled: tuple[str, ...] = ()


def unsettled(snapshot: Snapshot) -> list[str]:
    """What keeps the system from being at rest, in words; empty when it is."""
    reasons = []
    moving = Counter(s for s in snapshot.statuses.values() if s not in FINAL)
    if moving:
        listed = ", ".join(f"{status} {n}" for status, n in sorted(moving.items()))
        reasons.append(f"orders not at a final status: {listed}")
    held: dict[str, int] = defaultdict(int)
    for charge in snapshot.charges:
        held[charge.order_id] += charge.amount - charge.refunded
    unrefunded = sorted(
        oid
        for oid, amount in held.items()
        if amount > 0 and snapshot.statuses.get(oid) in FINAL - FULFILLED
    )
    if unrefunded:
        reasons.append(
            f"charges of {len(unrefunded)} unfulfilled orders not refunded"
            f" (e.g. {', '.join(unrefunded[:3])})"
        )
    reasons += [f"{name}: {count}" for name, count in snapshot.pending_rows.items() if count]
    if snapshot.client_pending:
        reasons.append(f"client follow-ups not done: {snapshot.client_pending}")
    return reasons


def wait_for_rest(
    observe: Callable[[], Snapshot],
    since: float,
    deadline: float,
    confirm: float = CONFIRM_SECONDS,
    poll: float = POLL_SECONDS,
) -> Rest:
    """Poll until settled and unchanged for `confirm` seconds; rest began at the first such look."""
    rest_began: float | None = None
    seen: tuple[object, ...] | None = None
    reasons: list[str] = []
    moves: list[tuple[float, int]] = []
    last: Mapping[str, str] = {}
    while True:
        looked = time.monotonic()
        try:
            snapshot = observe()
        except Exception as error:  # an unreadable system is not at rest; say why
            reasons, rest_began = [f"could not look: {error}"], None
        else:
            moves.append((looked, sum(last.get(o) != s for o, s in snapshot.statuses.items())))
            last = snapshot.statuses
            reasons = unsettled(snapshot)
            if reasons:
                rest_began = None
            elif rest_began is None or snapshot.fingerprint() != seen:
                rest_began, seen = looked, snapshot.fingerprint()
            elif looked - rest_began >= confirm:
                return Rest(max(0.0, rest_began - since))
        if looked >= deadline:
            recent = sum(n for at, n in moves[1:] if at >= looked - DRAINING_WINDOW)
            draining = f"{recent} status changes in the last {DRAINING_WINDOW:.0f} s"
            return Rest(None, (*(reasons or ["still changing"]), draining))
        time.sleep(poll)


def telling(
    observe: Callable[[], Snapshot],
    since: float,
    say: Callable[[str], None],
    every: float = TELL_EVERY_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Callable[[], Snapshot]:
    """`observe`, saying at most every `every` seconds what still keeps the system from rest,
    so a run's log shows where a long recovery went."""
    told = since

    def look() -> Snapshot:
        nonlocal told
        snapshot = observe()
        now = clock()
        if now - told >= every and (reasons := unsettled(snapshot)):
            say(f"{now - since:.0f} s after the faults: {'; '.join(reasons)}")
            told = now
        return snapshot

    return look
