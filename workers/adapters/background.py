"""Publishing from a thread of its own, so whoever committed answers without waiting on SQS."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Sequence

from models.domain.follow_ups import FollowUp
from models.ports import Publisher

log = logging.getLogger(__name__)

# Rows taken in one go: the SQS publisher sends them ten to a call and records them in one
# transaction, so a burst costs a few calls, not one per order.
MAX_BATCH = 50
# Beyond this many rows waiting (SQS down for minutes), new ones are left to the relay alone.
CAPACITY = 10_000
# How long a row waits for others to fill a SendMessageBatch with it, when rows are coming
# that fast. Each call costs the client (signing, HTTP) and the server about as much as the
# messages in it, so at a few hundred orders a second one call of ten is far cheaper than ten
# of one. It adds at most this much to the time from commit to SQS, and nothing when the
# rows come further apart than this (a row then goes out alone, as soon as it is committed).
GATHER_SECONDS = 0.02
# Rows a gathering stops at: one full SendMessageBatch.
FULL = 10

# A row and when it was queued (time.monotonic()).
Queued = tuple[float, FollowUp]


class BackgroundPublisher:
    """Hands follow-ups to `inner` from a background thread, in batches, as they come.

    `publish` only queues: the request that committed the rows returns at once. The thread
    sends whatever has gathered while it was busy with the last batch, so batches grow with
    the load; and when rows come less than `gather` seconds apart it waits up to that long
    for ten. An idle system sends each row as soon as it is committed. Nothing is lost
    if the process dies with rows still queued: they are committed, and the relay publishes
    them once their lease runs out. A row queued longer than `fresh_for` (that lease) is
    the relay's by then, and is dropped here rather than sent twice.
    """

    def __init__(
        self,
        inner: Publisher,
        *,
        max_batch: int = MAX_BATCH,
        fresh_for: float | None = None,
        gather: float = GATHER_SECONDS,
    ) -> None:
        self.topics = inner.topics
        self._inner = inner
        self._max_batch = max_batch
        self._gather = gather
        # No lease (0): the relay may publish at once anyway, and nothing is stale here.
        self._fresh_for = fresh_for or None
        self._reset()
        # A forked child inherits the queue and lock but not the thread: start afresh there.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._queue: queue.Queue[Queued | None] = queue.Queue(maxsize=CAPACITY)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._dropped = 0
        self._last_taken = float("-inf")

    def publish(self, follow_ups: Sequence[FollowUp]) -> None:
        """Queue the rows for the background thread; never blocks, never raises."""
        self._start()
        now = time.monotonic()
        for follow_up in follow_ups:
            try:
                self._queue.put_nowait((now, follow_up))
            except queue.Full:
                self._dropped += 1
                if self._dropped % 1000 == 1:
                    log.warning("publisher backlog full; %d rows left to the relay", self._dropped)

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._stopping.clear()
                self._thread = threading.Thread(
                    target=self._run, name="outbox-publisher", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            batch = self._take()
            try:
                self._send(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _take(self) -> list[Queued | None]:
        """The next row, waiting for it; if rows come thick and fast, the rows behind it for up
        to `gather` seconds, until ten; then every row already there, up to a batch."""
        batch = [self._queue.get()]
        deadline = self._gather_until(batch[0])
        while len(batch) < self._max_batch and batch[-1] is not None:
            wait = deadline - time.monotonic() if len(batch) < FULL else 0.0
            try:
                batch.append(
                    self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                )
            except queue.Empty:
                break
        return batch

    def _gather_until(self, first: Queued | None) -> float:
        """Until when to wait for rows behind `first`: a while if rows come thick and fast."""
        if first is None:
            return 0.0
        queued_at, previous = first[0], self._last_taken
        self._last_taken = queued_at
        return queued_at + self._gather if queued_at - previous < self._gather else 0.0

    def _send(self, batch: list[Queued | None]) -> None:
        oldest = time.monotonic() - self._fresh_for if self._fresh_for is not None else None
        queued = [item for item in batch if item is not None]
        rows = [row for at, row in queued if oldest is None or at > oldest]
        if len(rows) < len(queued):
            log.info("left %d rows to the relay: queued past their lease", len(queued) - len(rows))
        if not rows:
            return
        try:
            self._inner.publish(rows)
        except Exception:  # a publisher should not raise; if one does, the relay covers
            log.exception("background publish failed; the relay will publish these rows")

    def flush(self, timeout: float) -> bool:
        """Wait until every queued row has been handed on; False if `timeout` ran out first."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def close(self, timeout: float = 2.0) -> None:
        """Send what is queued (for up to `timeout`), then stop the thread."""
        if self._thread is None:
            return
        self.flush(timeout)
        self._stopping.set()
        # Wakes a thread waiting for rows; a full queue needs no waking (it is not waiting).
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        self._thread.join(timeout=max(timeout, 0.1))
        self._thread = None
