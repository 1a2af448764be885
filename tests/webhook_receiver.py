"""A shop's webhook endpoint for tests: a real HTTP server in a thread, answering as scripted."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The README's recipe, as a shop would write it (Stripe's scheme)."""
    items = dict(part.split("=", 1) for part in header.split(","))
    timestamp = items["t"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    fresh = abs(time.time() - int(timestamp)) <= tolerance
    return fresh and hmac.compare_digest(expected, items["v1"])


@dataclass
class Received:
    """One POST as it arrived, and what it was answered."""

    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Script:
    """The answers to give, in turn (then 200), a delay before each, and what arrived."""

    statuses: list[int] = field(default_factory=list)
    delay_seconds: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        """The next scripted answer, or 200 once the script has run out."""
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200

    def successes(self) -> list[Received]:
        """The deliveries answered with a 2xx."""
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if script.delay_seconds:
                time.sleep(script.delay_seconds)
            status = script.next_status()
            with script.lock:
                script.received.append(Received(dict(self.headers.items()), body, status))
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def receiver() -> Iterator[tuple[str, Script]]:
    """A receiver on a free local port: its URL and its script."""
    script = Script()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", script
    finally:
        server.shutdown()
        server.server_close()
