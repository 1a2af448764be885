"""Delivering one event to one subscriber: claim, POST with nothing held, record the answer.

2xx: delivered. A 4xx (but 408 and 429): refused for good, never retried. A 5xx, a 408 or
429, a timeout or no connection: tried again after an exponential backoff with full jitter,
until WEBHOOK_MAX_ATTEMPTS. A subscription whose deliveries have failed without a break for
WEBHOOK_DISABLE_AFTER_HOURS is disabled and operations are told once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from models.domain.backoff import backoff
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.webhooks import EXHAUSTED, FAILED, SUCCEEDED, retried, succeeded
from models.services.webhook_post import Answer, post_event
from models.store import webhook_deliveries as store
from models.store.follow_ups import finish_current
from models.store.unit_of_work import Work
from settings import Settings

log = logging.getLogger(__name__)

RETRY = "retry"
# How long an attempt may be on the wire before another worker may take the delivery.
LEASE_MARGIN_SECONDS = 30.0

Poster = Callable[..., Answer]


def outcome_of(answer: Answer, attempt: int, max_attempts: int) -> str:
    """What the answer makes of the delivery: SUCCEEDED, FAILED, RETRY or EXHAUSTED."""
    if succeeded(answer.status_code):
        return SUCCEEDED
    if not retried(answer.status_code):
        return FAILED
    return RETRY if attempt < max_attempts else EXHAUSTED


def _settle(work: Work, settings: Settings, claimed: store.Claimed, answer: Answer) -> str:
    outcome = outcome_of(answer, claimed.attempt, settings.webhook_max_attempts)
    with work() as session:
        store.log_attempt(
            session,
            claimed,
            status_code=answer.status_code,
            latency_ms=answer.latency_ms,
            error=answer.error,
            outcome=outcome,
        )
        since = store.subscriber_answered(session, claimed.subscription_id, ok=outcome == SUCCEEDED)
        limit = timedelta(hours=settings.webhook_disable_after_hours)
        if since is not None and utcnow() - since >= limit:
            reason = f"every delivery failed since {since:%Y-%m-%d %H:%M} UTC: {answer.error}"
            if store.disable(session, claimed.subscription_id, reason):
                log.error("webhook subscription %s disabled", claimed.subscription_id)
        if outcome != RETRY:
            finish_current(session)
    return outcome


def deliver_webhook(
    work: Work, settings: Settings, delivery_id: int, *, post: Poster = post_event
) -> str:
    """Make one attempt at the delivery; TryLater when it must be tried again."""
    lease = timedelta(seconds=settings.webhook_timeout_seconds + LEASE_MARGIN_SECONDS)
    with work() as session:
        claimed = store.claim(session, delivery_id, lease=lease)
        if claimed == store.RUNNING:
            raise TryLater("an attempt is running", delay=lease.total_seconds())
        if isinstance(claimed, str):
            # Ended or parked: nothing to do. Waiting: the earlier delivery asks for this one.
            finish_current(session)
            return claimed
    answer = post(
        claimed.url,
        claimed.secret,
        claimed.body,
        event_id=claimed.event_id,
        timeout=settings.webhook_timeout_seconds,
    )
    outcome = _settle(work, settings, claimed, answer)
    log.info(
        "webhook delivery %s attempt %d: %s (%s, %d ms)",
        delivery_id,
        claimed.attempt,
        outcome,
        answer.status_code or answer.error,
        answer.latency_ms,
    )
    if outcome == RETRY:
        delay = backoff(
            claimed.attempt,
            base=settings.webhook_backoff_base_seconds,
            cap=settings.webhook_backoff_cap_seconds,
        )
        raise TryLater(answer.error or "retry", delay=delay)
    return outcome
