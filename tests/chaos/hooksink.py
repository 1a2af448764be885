"""The shop's webhook endpoint in a chaos run: verifies each signature, fails and stalls on
purpose, and keeps every event it acknowledged, in the order it acknowledged them.

A bad signature is answered 400. Of the rest, a seeded share is answered 500 and another
stalls past the delivery timeout (the sender gives up; the event is not kept); the others
are answered 200 and kept.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from models.domain.webhooks import SIGNATURE_HEADER, verify
from tests.chaos.hook_counts import HookAck

# A throwaway secret of this run alone.
SECRET = "whsec_chaos_receiver_000000000000"
FAIL_RATE = 0.10
STALL_RATE = 0.04
# How far past the delivery timeout a stalled answer comes (if the sender were still there).
STALL_PAST_TIMEOUT = 0.5
STALLED = "stalled"
REQUEST_TIMEOUT = 10.0


class HookSink:
    """A threaded HTTP server on a local port; `acks` are the events answered 200, in order."""

    def __init__(self, seed: int, timeout: float) -> None:
        """A receiver whose failures follow `seed`; stalls outlast the sender's `timeout`."""
        self._rng = random.Random(seed ^ 0x400C)
        self._stall = timeout + STALL_PAST_TIMEOUT
        self._lock = threading.Lock()
        self.acks: list[HookAck] = []
        self.answers: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where to subscribe it."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def start(self) -> None:
        """Serve on a thread of its own."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> tuple[list[HookAck], dict[str, int]]:
        """The events acknowledged so far, and the answers given by status."""
        with self._lock:
            return list(self.acks), dict(sorted(self.answers.items()))

    def answer(self, header: str, body: bytes) -> int | None:
        """The status for one POST (None: stall and send nothing worth reading)."""
        if not verify(SECRET, header, body, now=int(time.time())):
            return self._counted(400)
        with self._lock:
            draw = self._rng.random()
        if draw < FAIL_RATE:
            return self._counted(500)
        if draw < FAIL_RATE + STALL_RATE:
            time.sleep(self._stall)
            with self._lock:
                self.answers[STALLED] += 1
            return None
        event = json.loads(body)
        data = event.get("data") or {}
        ack = HookAck(
            event_id=int(str(event["id"]).removeprefix("evt_")),
            order_id=str(data.get("order_id")),
            kind=str(data.get("kind")),
            event_type=str(event.get("type")),
        )
        with self._lock:
            self.acks.append(ack)
            self.answers["200"] += 1
        return 200

    def _counted(self, status: int) -> int:
        with self._lock:
            self.answers[str(status)] += 1
        return status


def _handler(sink: HookSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = sink.answer(self.headers.get(SIGNATURE_HEADER, ""), body)
            try:
                self.send_response(503 if status is None else status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def subscribe(api: str, admin_token: str, url: str) -> int:
    """Subscribe `url` to every order event through the admin API; the subscription's id."""
    response = requests.post(
        f"{api}/admin/webhooks",
        json={"url": url, "secret": SECRET, "description": "chaos run: the shop's endpoint"},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=REQUEST_TIMEOUT,
    )
    if response.status_code != 201:
        raise RuntimeError(f"subscribing {url} answered {response.status_code}: {response.text}")
    return int(response.json()["id"])
