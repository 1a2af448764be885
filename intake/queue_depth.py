"""The orders queue's and the dead-letter queue's depth, asked of SQS at each scrape.

A scrape must answer while SQS is away: the depths are then left out and
`fulfillment_sqs_up` says 0, so an alert can tell "empty" from "unknown".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from flask import current_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from intake.runtime import runtime
from workers.adapters.sqs import OrdersQueue

log = logging.getLogger(__name__)

# One try, briefly: a scrape waits on this, and Prometheus gives a scrape 10 s by default.
SQS_TIMEOUT_SECONDS = 1.0
EXTENSION = "fulfillment.metrics_queue"
MESSAGES = "fulfillment_sqs_messages"
UP = "fulfillment_sqs_up"
MESSAGES_HELP = "Messages waiting in SQS (approximate, visible ones): orders, dlq (dead letters)"
UP_HELP = "1 if SQS answered this scrape's depth queries, 0 if not (the depths are then absent)"

Depths = Callable[[], dict[str, int]]


class QueueCollector(Collector):
    """fulfillment_sqs_messages{queue} and fulfillment_sqs_up, read when scraped."""

    def __init__(self, depths: Depths) -> None:
        self._depths = depths

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The gauges' names, without asking SQS."""
        yield GaugeMetricFamily(MESSAGES, MESSAGES_HELP, labels=["queue"])
        yield GaugeMetricFamily(UP, UP_HELP)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The depths, or only `up` at 0 when SQS does not answer."""
        try:
            depths = self._depths()
        except Exception as exc:  # any failure of SQS or the network: the scrape goes on
            log.warning("SQS depth unavailable for metrics: %s", type(exc).__name__)
            yield GaugeMetricFamily(UP, UP_HELP, value=0)
            return
        messages = GaugeMetricFamily(MESSAGES, MESSAGES_HELP, labels=["queue"])
        for queue, depth in sorted(depths.items()):
            messages.add_metric([queue], depth)
        yield messages
        yield GaugeMetricFamily(UP, UP_HELP, value=1)


def queue_depths() -> Depths:
    """How to ask this app's SQS for both depths, with a client kept for the app's life."""
    queue: OrdersQueue | None = current_app.extensions.get(EXTENSION)
    if queue is None:
        queue = OrdersQueue.from_settings(
            runtime().settings, timeout=SQS_TIMEOUT_SECONDS, attempts=1
        )
        current_app.extensions[EXTENSION] = queue
    return depths_of(queue)


def depths_of(queue: OrdersQueue) -> Depths:
    """Both depths of `queue`, asked when called."""
    return lambda: {"orders": queue.depth("main"), "dlq": queue.depth("dlq")}
