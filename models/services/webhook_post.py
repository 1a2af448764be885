"""One signed POST of an event to a subscriber, with nothing locked and no transaction open."""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from models.domain.webhooks import SIGNATURE_HEADER, signature_header

USER_AGENT = "fulfillment-webhooks/1"


@dataclass(frozen=True)
class Answer:
    """What the subscriber said: a status code, or (None) the error that stood in for one."""

    status_code: int | None
    latency_ms: int
    error: str | None = None


def _connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return kind(parts.hostname or "", parts.port, timeout=timeout), path


def post_event(
    url: str, secret: str, body: bytes, *, event_id: str, timeout: float, now: int | None = None
) -> Answer:
    """POST `body` signed with `secret`; redirects are not followed (a 3xx is a failure)."""
    timestamp = int(time.time()) if now is None else now
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Webhook-Id": event_id,
        SIGNATURE_HEADER: signature_header(secret, timestamp, body),
    }
    started = time.monotonic()
    try:
        connection, path = _connection(url, timeout)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(64 * 1024)
            status: int | None = response.status
            error = None if 200 <= response.status < 300 else f"HTTP {response.status}"
        finally:
            connection.close()
    except TimeoutError:
        status, error = None, f"no answer within {timeout:g} s"
    except (OSError, http.client.HTTPException) as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"[:500]
    latency = int((time.monotonic() - started) * 1000)
    return Answer(status, latency, error)
