"""Celery's remote control of the workers' queue consumers (no task code, no celeryconfig)."""

from __future__ import annotations

from collections.abc import Sequence

from celery import Celery

from workers.celery_queues import queue_name


class CeleryQueueControl:
    """Cancels and adds the consumers of a step queue on the workers, through the broker."""

    def __init__(self, broker_url: str, prefix: str, *, timeout: float = 2.0) -> None:
        self._app = Celery("fulfillment-ops", broker=broker_url)
        self._prefix = prefix
        self._timeout = timeout

    def stop_consuming(self, queue: str) -> list[str]:
        """Ask which workers consume `queue`, and tell those to stop; their names."""
        name = queue_name(self._prefix, queue)
        active = self._app.control.inspect(timeout=self._timeout).active_queues() or {}
        workers = sorted(
            node for node, queues in active.items() if any(q["name"] == name for q in queues)
        )
        if workers:
            self._app.control.cancel_consumer(
                name, destination=workers, reply=True, timeout=self._timeout
            )
        return workers

    def start_consuming(self, queue: str, workers: Sequence[str]) -> list[str]:
        """Tell the workers that consumed `queue` to consume it again; those that answered."""
        if not workers:
            return []
        replies = self._app.control.add_consumer(
            queue_name(self._prefix, queue),
            destination=list(workers),
            reply=True,
            timeout=self._timeout,
        )
        return sorted(node for reply in replies or [] for node in reply)

    def close(self) -> None:
        """Let go of the broker connections."""
        self._app.close()
