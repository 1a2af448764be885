"""/metrics over HTTP for a process kind with no web server of its own: dispatcher, workers.

A thread of the kind's first process serves the kind's folder on METRICS_HOST:METRICS_PORT,
behind the intake's METRICS_TOKEN. Without METRICS_PORT nothing is served: on one host the
intake's /metrics shows every kind's folder.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from settings import Settings
from telemetry.processes import recorded, use_folder

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes come every few seconds: not worth a log line each."""


def guarded(app: WsgiApp, token: str) -> WsgiApp:
    """`app` at /metrics for `Authorization: Bearer <token>` only; 401 to anyone else."""
    expected = f"Bearer {token}".encode()

    def serve(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        given = str(environ.get("HTTP_AUTHORIZATION", "")).encode("utf-8", "replace")
        if not hmac.compare_digest(expected, given):
            headers = [
                ("Content-Type", "text/plain"),
                ("WWW-Authenticate", 'Bearer realm="metrics"'),
            ]
            start_response("401 Unauthorized", headers)
            return [b"must be Bearer METRICS_TOKEN\n"]
        return app(environ, start_response)

    return serve


def serve_metrics(settings: Settings, kind: str) -> int | None:
    """Record in the kind's folder, emptied first, and serve it; the port served, if any."""
    use_folder(settings, kind, fresh=True)
    if settings.metrics_port is None:
        return None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(recorded(settings, kind))
    app = guarded(make_wsgi_app(registry), settings.metrics_token.get_secret_value())
    try:
        server = make_server(
            settings.metrics_host, settings.metrics_port, app, _Server, handler_class=_Quiet
        )
    except OSError as exc:
        # Metrics are worth less than the work: the process runs on without them.
        log.error("cannot serve metrics on port %d: %s", settings.metrics_port, exc)
        return None
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics of %s at http://%s:%d/metrics", kind, *server.server_address[:2])
    return int(server.server_address[1])
