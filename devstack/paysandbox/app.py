"""The sandbox's Flask app: Stripe's routes, authentication, idempotent answers and error shapes."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, fields, replace
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from devstack.paysandbox.captures import AUTHORIZATION_SECONDS
from devstack.paysandbox.ledger import ApiError, Faults, Json, Sandbox, Stored, invalid

Endpoint = Callable[[Json, str | None], tuple[int, Json]]

NO_KEY = "You did not provide an API key. Use the Authorization header: 'Bearer YOUR_SECRET_KEY'."
KEY_REUSED = (
    "Keys for idempotent requests can only be used with the same parameters they were first used"
    " with. Try using a key other than '{}' if you meant to execute a different request."
)
KEY_IN_USE = (
    "There is currently another in-progress request using this idempotent key."
    " Please try again later."
)


def create_sandbox_app(
    *,
    latency: float = 0.0,
    failure_rate: float = 0.0,
    timeout_after_charge_rate: float = 0.0,
    seed: int | None = None,
    stall_seconds: float = 30.0,
    authorization_seconds: float = AUTHORIZATION_SECONDS,
) -> Flask:
    """The sandbox as a Flask app; faults (and how long an authorisation holds) can also be
    changed at POST /_sandbox/faults."""
    faults = Faults(
        latency, failure_rate, timeout_after_charge_rate, stall_seconds, authorization_seconds
    )
    sandbox = Sandbox(faults, seed)
    # The package name, not this module's, keeps the app's name and logger as they were.
    app = Flask("devstack.paysandbox")
    app.extensions["paysandbox"] = sandbox
    app.register_error_handler(ApiError, lambda e: _json(e.status, {"error": e.error}, e.headers))
    app.register_error_handler(HTTPException, _unrecognized)
    app.before_request(lambda: _log_arrival(sandbox))
    app.after_request(lambda response: _log_answer(sandbox, response))
    for method, rule, view in _routes(sandbox):
        app.add_url_rule(rule, f"{method} {rule}", view, methods=[method])
    return app


def _routes(sandbox: Sandbox) -> list[tuple[str, str, Callable[..., Any]]]:
    """Stripe's routes the sandbox answers, and its own under /_sandbox/."""
    return [
        ("POST", "/v1/payment_intents", lambda: _answer(sandbox, sandbox.create_intent)),
        ("GET", "/v1/payment_intents/search", lambda: _search(sandbox)),
        ("GET", "/v1/payment_intents/<intent_id>", lambda intent_id: _get(sandbox, intent_id)),
        (
            "POST",
            "/v1/payment_intents/<intent_id>/cancel",
            lambda intent_id: _answer(sandbox, lambda p, _k: sandbox.cancel_intent(intent_id, p)),
        ),
        (
            "POST",
            "/v1/payment_intents/<intent_id>/capture",
            lambda intent_id: _answer(
                sandbox, lambda p, k: sandbox.capture_intent(intent_id, p, k)
            ),
        ),
        ("POST", "/v1/refunds", lambda: _answer(sandbox, sandbox.create_refund)),
        ("GET", "/_sandbox/health", lambda: {"status": "ok"}),
        ("GET", "/_sandbox/ledger", lambda: _json(200, sandbox.ledger_view())),
        ("GET", "/_sandbox/intents", lambda: _json(200, sandbox.intents_view())),
        ("GET", "/_sandbox/requests", lambda: _json(200, sandbox.requests_view())),
        ("POST", "/_sandbox/faults", lambda: _change_faults(sandbox)),
        ("POST", "/_sandbox/reset", lambda: _reset(sandbox)),
    ]


def _get(sandbox: Sandbox, intent_id: str) -> Response:
    return _answer(sandbox, lambda params, _key: (200, sandbox.get_intent(intent_id, params)))


def _search(sandbox: Sandbox) -> Response:
    query = request.args.get("query")
    return _answer(sandbox, lambda params, _key: (200, sandbox.search_intents(query, params)))


def _reset(sandbox: Sandbox) -> Json:
    sandbox.reset()
    return {"status": "reset"}


def _change_faults(sandbox: Sandbox) -> Json:
    changes = request.get_json(silent=True)
    names = {f.name for f in fields(Faults)}
    if not isinstance(changes, dict) or not set(changes) <= names:
        raise invalid(f"Send a JSON object with some of {sorted(names)}.")
    if any(not isinstance(v, int | float) or v < 0 for v in changes.values()):
        raise invalid("Fault settings are non-negative numbers.")
    with sandbox.lock:
        sandbox.faults = replace(sandbox.faults, **changes)
        return asdict(sandbox.faults)


def _answer(sandbox: Sandbox, endpoint: Endpoint) -> Response:
    """Answer the way Stripe does: authenticate, then run the endpoint once per idempotency key."""
    api_key, faults = _authenticate(), sandbox.faults
    if sandbox.roll(faults.failure_rate):
        # A failure in front of the API, before any endpoint runs: nothing charged or stored.
        time.sleep(faults.latency)
        raise ApiError(500, {"type": "api_error", "message": "Something went wrong on our end."})
    key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
    # A GET's parameters (expand[0]=latest_charge) come in the query string.
    sent = request.form if request.method == "POST" else request.args
    form = sorted(sent.items(multi=True))
    if key is None:
        time.sleep(faults.latency)
        status, body = endpoint(_parse_form(form), None)
        return _json(status, body)
    return _answer_once(sandbox, endpoint, (api_key, key), form)


def _answer_once(
    sandbox: Sandbox, endpoint: Endpoint, scope: tuple[str, str], form: list[tuple[str, str]]
) -> Response:
    """Run the endpoint at most once per key; repeats get the stored answer."""
    fingerprint = json.dumps([request.path, form])
    stored = sandbox.claim(scope, fingerprint)
    time.sleep(sandbox.faults.latency)
    if stored is not None:
        return _replay(stored, fingerprint, scope[1])
    try:
        status, body = endpoint(_parse_form(form), scope[1])
    except BaseException:
        sandbox.settle(scope, None)
        raise
    text = json.dumps(body, indent=2)
    sandbox.settle(scope, status, text)
    if status == 200 and sandbox.roll(sandbox.faults.timeout_after_charge_rate):
        # The money moved and the answer is stored; only the client does not hear it in time.
        time.sleep(sandbox.faults.stall_seconds)
    return _json(status, text)


def _replay(stored: Stored, fingerprint: str, key: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise ApiError(400, {"type": "idempotency_error", "message": KEY_REUSED.format(key)})
    if stored.status == 0:
        error = {"type": "invalid_request_error", "code": "idempotency_key_in_use"}
        raise ApiError(409, error | {"message": KEY_IN_USE}, {"Stripe-Should-Retry": "true"})
    return _json(stored.status, stored.body, {"Idempotent-Replayed": "true"})


def _authenticate() -> str:
    scheme, _, api_key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not api_key:
        raise ApiError(401, {"type": "invalid_request_error", "message": NO_KEY})
    if not api_key.startswith("sk_test_"):
        message = f"Invalid API Key provided: {api_key[:8]}****{api_key[-4:]}"
        raise ApiError(401, {"type": "invalid_request_error", "message": message})
    return api_key


def _parse_form(pairs: list[tuple[str, str]]) -> Json:
    """Stripe's bracket notation (metadata[order_id]=...) as nested dictionaries."""
    params: Json = {}
    for name, value in pairs:
        *parents, leaf = name.replace("]", "").split("[")
        node = params
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise invalid(f"Invalid hash: {name}", name)
        node[leaf] = value
    return params


def _log_arrival(sandbox: Sandbox) -> None:
    """Log API requests as they arrive, so a stalled one shows (with status None)."""
    if request.path.startswith("/v1/"):
        key = request.headers.get("Idempotency-Key")
        g.logged = {"method": request.method, "path": request.path, "idempotency_key": key}
        g.logged["status"] = None
        with sandbox.lock:
            sandbox.requests.append(g.logged)


def _log_answer(sandbox: Sandbox, response: Response) -> Response:
    if "logged" in g:
        with sandbox.lock:
            g.logged["status"] = response.status_code
    return response


def _unrecognized(error: HTTPException) -> Response:
    message = f"Unrecognized request URL ({request.method}: {request.path})."
    return _json(
        error.code or 404, {"error": {"type": "invalid_request_error", "message": message}}
    )


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    text = body if isinstance(body, str) else json.dumps(body, indent=2)
    headers = {"Request-Id": f"req_{secrets.token_hex(7)}"} | (headers or {})
    return Response(text, status, mimetype="application/json", headers=headers)
