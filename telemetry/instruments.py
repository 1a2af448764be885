"""The counters and histograms the processes record where things happen.

Every metric here has labels, so it holds no value until a label set is first used; when a
process picks its metrics folder (telemetry/processes.py), the values made so far are
dropped and made again in the folder. Label values come from small fixed sets (URL rules,
steps, outcomes, mail kinds), never from ids, so the number of series stays small.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
STEP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

HTTP_REQUESTS = Counter(
    "fulfillment_http_requests",
    "Intake requests answered, by route (the URL rule), method and status",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "fulfillment_http_request_duration_seconds",
    "Time the intake took to answer, by route and method",
    ["route", "method"],
    buckets=HTTP_BUCKETS,
    registry=REGISTRY,
)
ORDERS_SUBMITTED = Counter(
    "fulfillment_orders_submitted",
    "POST /orders answered 202: accepted (a new order) or replayed (the same Idempotency-Key)",
    ["outcome"],
    registry=REGISTRY,
)
STEP_RUNS = Counter(
    "fulfillment_step_runs",
    "Step task runs by step and outcome: done, retry_later, failed (for good), error",
    ["step", "outcome"],
    registry=REGISTRY,
)
STEP_DURATION = Histogram(
    "fulfillment_step_duration_seconds",
    "Time a step task ran, by step",
    ["step"],
    buckets=STEP_BUCKETS,
    registry=REGISTRY,
)
STEP_RETRIES = Counter(
    "fulfillment_step_retries",
    "Step runs that ended in a retry: by its follow-up row (backoff) or by Celery (database)",
    ["step", "by"],
    registry=REGISTRY,
)
PAYMENT_ATTEMPTS = Counter(
    "fulfillment_payment_attempts",
    "Charge attempts by outcome: paid, declined, pending, abandoned, refund_needed, "
    "unavailable (gateway away: retried), failed",
    ["outcome"],
    registry=REGISTRY,
)
MAILS = Counter(
    "fulfillment_mails",
    "Mail sends by kind and outcome: sent, already_sent, retried, rejected, failed",
    ["kind", "outcome"],
    registry=REGISTRY,
)
ALLOCATIONS = Counter(
    "fulfillment_allocation_decisions",
    "Allocation decisions: single (one warehouse), split, backorder, reject",
    ["decision"],
    registry=REGISTRY,
)
DISPATCHED = Counter(
    "fulfillment_dispatched_messages",
    "SQS messages the dispatcher handled: started, already_moving, dead_lettered, retry_later",
    ["outcome"],
    registry=REGISTRY,
)


METRICS = (
    HTTP_REQUESTS,
    HTTP_DURATION,
    ORDERS_SUBMITTED,
    STEP_RUNS,
    STEP_DURATION,
    STEP_RETRIES,
    PAYMENT_ATTEMPTS,
    MAILS,
    ALLOCATIONS,
    DISPATCHED,
)


def forget_values() -> None:
    """Drop every labelled value held so far: the next use makes it afresh, of the class now set."""
    for metric in METRICS:
        metric.clear()


def request_answered(route: str, method: str, status: int, seconds: float) -> None:
    """One intake request, answered."""
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_DURATION.labels(route, method).observe(seconds)


def order_submitted(*, replayed: bool) -> None:
    """A 202 to POST /orders: a new order, or the stored answer again."""
    ORDERS_SUBMITTED.labels("replayed" if replayed else "accepted").inc()


def step_ran(step: str, outcome: str, seconds: float) -> None:
    """One run of a step task, however it ended."""
    STEP_RUNS.labels(step, outcome).inc()
    STEP_DURATION.labels(step).observe(seconds)


def step_retried(step: str, by: str) -> None:
    """A step run that ended in a retry."""
    STEP_RETRIES.labels(step, by).inc()


def payment_attempted(outcome: str) -> None:
    """A charge attempt and what came of it."""
    PAYMENT_ATTEMPTS.labels(outcome).inc()


def mail_ended(kind: str, outcome: str) -> None:
    """A mail send and what came of it."""
    MAILS.labels(kind, outcome).inc()


def allocation_decided(decision: str) -> None:
    """What allocation decided for an order."""
    ALLOCATIONS.labels(decision).inc()


def messages_dispatched(outcomes: Iterable[str]) -> None:
    """What the dispatcher did with each message of a poll."""
    for outcome in outcomes:
        DISPATCHED.labels(outcome).inc()
