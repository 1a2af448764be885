"""Rate limits per client address, counted in Redis, refused with a problem and Retry-After.

Four limits, each a setting: order creation; requests on an order answered 401 or 404 (a
missing or wrong token, an order that is not the caller's); admin auth answered 401 or 403; and
the carrier webhook. Reads and admin auth count their failures only, so a customer polling
their own order or a signed-in admin is never limited; once an address is over, everything
the limit covers is refused until its window ends, the right token too: that is what stops
guessing. If Redis does not answer, each process counts in its own memory until Redis
answers again, and a request is never refused for want of Redis.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded
from werkzeug.middleware.proxy_fix import ProxyFix

from intake.problems import Problem
from settings import Settings

# The blueprints behind intake.auth.require_admin: the admin API and the tracking PATCH.
ADMIN_BLUEPRINTS = frozenset({"admin", "tracking"})
ORDER_READ_FAILURES = frozenset({401, 404})
ADMIN_AUTH_FAILURES = frozenset({401, 403})
# How long a request waits on a Redis that stops answering, per attempt (the first request to
# find it waits twice: its own call, then the library's check before it turns to memory).
REDIS_TIMEOUT_SECONDS = 1
# An IPv6 client usually holds a whole /64: counting single addresses would let it rotate.
IPV6_PREFIX = 64


@dataclass(frozen=True)
class Rule:
    """One limit: what it is called, what it covers, and which answers count against it."""

    scope: str
    what: str
    covers: Callable[[], bool]
    counts: Callable[[Response], bool] | None = None  # None: every request covered counts


def _creating_an_order() -> bool:
    return request.endpoint == "orders.create_order"


def _opening_an_order() -> bool:
    # Any route with an order id: a read, its events, a cancel, a change by staff.
    return request.path.startswith("/orders/")


def _admin_auth() -> bool:
    return not ADMIN_BLUEPRINTS.isdisjoint(request.blueprints)


def _carrier_webhook() -> bool:
    return request.endpoint == "carrier_webhook.carrier_webhook"


RULES = {
    "order-creation": Rule("order-creation", "Orders created", _creating_an_order),
    "order-read-failures": Rule(
        "order-read-failures",
        "Order requests with a missing or wrong token",
        _opening_an_order,
        lambda response: response.status_code in ORDER_READ_FAILURES,
    ),
    "admin-auth-failures": Rule(
        "admin-auth-failures",
        "Admin requests with a missing, invalid or insufficient token",
        _admin_auth,
        lambda response: response.status_code in ADMIN_AUTH_FAILURES,
    ),
    "carrier-webhook": Rule("carrier-webhook", "Carrier webhook calls", _carrier_webhook),
}


def limit_values(settings: Settings) -> dict[str, str]:
    """Each rule's limit, from the settings."""
    return {
        "order-creation": settings.rate_limit_order_creation,
        "order-read-failures": settings.rate_limit_order_read_failures,
        "admin-auth-failures": settings.rate_limit_admin_auth_failures,
        "carrier-webhook": settings.rate_limit_carrier_webhook,
    }


def client_address() -> str:
    """Whom a request is counted against: its address, or its /64 for IPv6."""
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


def _application_limit(rule: Rule, value: str) -> ApplicationLimit:
    return ApplicationLimit(
        limit_provider=value,
        scope=rule.scope,
        exempt_when=lambda: not rule.covers(),
        deduct_when=rule.counts,
    )


def _retry_after(limiter: Limiter, refused: RateLimitExceeded) -> int:
    """Whole seconds until the window that refused the request ends, from 1 to its length."""
    window = refused.limit.limit.get_expiry()  # all of it, should Redis fail right now
    seconds = window
    with contextlib.suppress(Exception):
        breached = limiter.current_limit
        if breached is not None:
            # reset_at rounds up (Redis reports whole seconds); no window outlasts its length.
            seconds = min(window, math.ceil(breached.reset_at - time.time()))
    return max(1, seconds)


def _refusal(limiter: Limiter) -> Callable[[RateLimitExceeded], Response]:
    def refused(exc: RateLimitExceeded) -> Response:
        scope = exc.limit.scope if isinstance(exc.limit.scope, str) else ""
        what = RULES[scope].what if scope in RULES else "Requests"
        seconds = _retry_after(limiter, exc)
        return Problem(
            429,
            "Too many requests",
            detail=f"{what} from this address are limited to {exc.limit.limit}; "
            f"retry after {seconds} s",
            headers={"Retry-After": str(seconds)},
        ).to_response()

    return refused


class _NoBreachLines(logging.Filter):
    """Drop the library's line per refused request: the access log has each 429 already, and
    under an attack a second line per request would flood the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("ratelimit ")


_QUIET = _NoBreachLines()


def install_limits(app: Flask, settings: Settings) -> Limiter | None:
    """Put the proxy's client address and the rate limits of `settings` on `app`."""
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops)  # type: ignore[method-assign]
    if not settings.rate_limits_enabled:
        return None
    library_log = logging.getLogger("flask-limiter")
    if _QUIET not in library_log.filters:
        library_log.addFilter(_QUIET)
    values = limit_values(settings)
    limiter = Limiter(
        client_address,
        app=app,
        application_limits=[_application_limit(RULES[s], values[s]) for s in RULES],
        storage_uri=settings.require_redis_url(),
        storage_options={
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
        },
        strategy="fixed-window",
        key_prefix=f"{settings.celery_queue_prefix}intake",
        # Fail open: without Redis each process counts in memory; any other fault is logged.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        headers_enabled=False,
    )
    # A request no limit covers (health, metrics) skips the library's bookkeeping altogether.
    limiter.request_filter(lambda: not any(rule.covers() for rule in RULES.values()))
    app.register_error_handler(RateLimitExceeded, _refusal(limiter))
    return limiter
