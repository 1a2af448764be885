"""Publishing from a thread of its own, so whoever committed answers without waiting on SQS."""

from __future__ import annotations

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


class BackgroundPublisher:
    """Hands follow-ups to `inner` from a background thread, in batches, as they come.

    `publish` only queues: the request that committed the rows returns at once. The thread
    sends whatever has gathered while it was busy with the last batch, so batches grow with
    the load and an idle system sends each row as soon as it is committed. Nothing is lost
    if the process dies with rows still queued: they are committed, and the relay publishes
    them once their lease runs out.
    """

    def __init__(self, inner: Publisher, *, max_batch: int = MAX_BATCH) -> None:
        self.topics = inner.topics
        self._inner = inner
        self._max_batch = max_batch
        self._reset()
        # A forked child inherits the queue and lock but not the thread: start afresh there.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._queue: queue.Queue[FollowUp | None] = queue.Queue(maxsize=CAPACITY)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._dropped = 0

    def publish(self, follow_ups: Sequence[FollowUp]) -> None:
        """Queue the rows for the background thread; never blocks, never raises."""
        self._start()
        for follow_up in follow_ups:
            try:
                self._queue.put_nowait(follow_up)
            except queue.Full:
                self._dropped += 1
                if self._dropped % 1000 == 1:
                    log.warning("publisher backlog full; %d rows left to the relay", self._dropped)

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="outbox-publisher", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while (first := self._queue.get()) is not None:
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.task_done()
                    self._queue.put(None)  # seen after this batch is sent
                    break
                batch.append(item)
            try:
                self._inner.publish(batch)
            except Exception:  # a publisher should not raise; if one does, the relay covers
                log.exception("background publish failed; the relay will publish these rows")
            for _ in batch:
                self._queue.task_done()
        self._queue.task_done()

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
        self._queue.put(None)
        self._thread.join(timeout=max(timeout, 0.1))
        self._thread = None
