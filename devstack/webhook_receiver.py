"""A shop's webhook endpoint for `make run`: verifies each event's signature, prints it, keeps it.

    python -m devstack.webhook_receiver --port 9911 --secret whsec_... --log events.jsonl

`python -m devstack.webhook_receiver --show` (`make webhooks`) prints what it kept.

POST (any path): a verified event is answered 200, printed and appended to the log; a bad or
stale signature is answered 400. GET / lists the newest events kept, as JSON. GET /health: 200.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from devstack.datadir import data_dir
from models.domain.webhooks import SIGNATURE_HEADER, verify
from settings import get_settings

KEPT = 200
# The secret `make run` subscribes the receiver with (a development value, like the others).
DEV_RECEIVER_SECRET = "whsec_devstack_receiver_0000000000"  # noqa: S105 - development only


class Inbox:
    """The newest events received, and the file every one of them is appended to."""

    def __init__(self, log: Path | None) -> None:
        self.events: deque[dict[str, Any]] = deque(maxlen=KEPT)
        self.log = log
        self.lock = threading.Lock()

    def keep(self, event: dict[str, Any]) -> None:
        """Keep and print one verified event."""
        with self.lock:
            self.events.append(event)
            if self.log is not None:
                with self.log.open("a") as file:
                    file.write(json.dumps(event) + "\n")
        order = event.get("data", {}).get("order_id", "")
        print(f"webhook {event.get('id')} {event.get('type')} order {order}", flush=True)


def handler(secret: str, inbox: Inbox) -> type[BaseHTTPRequestHandler]:
    """The request handler for one receiver."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, document: object) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            header = self.headers.get(SIGNATURE_HEADER, "")
            if not verify(secret, header, body, now=int(time.time())):
                self._answer(400, {"error": "bad signature"})
                return
            try:
                event = json.loads(body)
            except ValueError:
                self._answer(400, {"error": "not JSON"})
                return
            inbox.keep(event)
            self._answer(200, {"received": event.get("id")})

        def do_GET(self) -> None:
            if self.path == "/health":
                self._answer(200, {"ok": True})
                return
            with inbox.lock:
                newest = list(reversed(inbox.events))
            self._answer(200, {"events": newest})

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def show(log: Path) -> int:
    """Print the events a receiver kept in `log`, oldest first (`make webhooks`)."""
    lines = log.read_text().splitlines() if log.exists() else []
    for line in lines:
        event = json.loads(line)
        data = event.get("data", {})
        print(
            f"{event.get('created')}  {event.get('id'):>10}  {event.get('type'):<22}"
            f"  order {data.get('order_id')}  {data.get('status') or ''}"
        )
    print(f"{len(lines)} webhook events verified and kept in {log}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Serve until stopped; or, with --show, print what a receiver kept."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9911)
    parser.add_argument("--secret", default=DEV_RECEIVER_SECRET)
    parser.add_argument("--log", type=Path, default=None, help="append every event here")
    parser.add_argument("--show", action="store_true", help="print the events kept, then exit")
    args = parser.parse_args(argv)
    if args.show:
        return show(args.log or data_dir(get_settings()).webhooks)
    server = ThreadingHTTPServer((args.host, args.port), handler(args.secret, Inbox(args.log)))
    print(f"webhook receiver on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
