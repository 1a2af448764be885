"""Errors as RFC 9457 problem details: status, title, and the field and reason of each fault."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from bootstrap.logs import withheld_trace
from intake.card_data import mask_card_numbers

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error the client can act on."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        *,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(title)
        # Members of the problem document beyond RFC 9457's own, such as `allowed`.
        self.extensions = extensions or {}
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}

    def to_response(self) -> Response:
        """The problem document as a JSON response."""
        body: dict[str, Any] = {"type": "about:blank", "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        response = jsonify(body)
        response.status_code = self.status
        response.mimetype = PROBLEM_JSON
        response.headers.update(self.headers)
        return response


def field_error(field: str, reason: str, status: int = 422) -> Problem:
    """A problem about one field of the request."""
    return Problem(status, "Invalid request", errors=[{"field": field, "reason": reason}])


def field_path(location: tuple[int | str, ...]) -> str:
    """A pydantic location as the client wrote it: `lines[0].quantity`."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


# What a pattern means, in words a client developer can act on.
PATTERN_REASONS = {
    "article_number": "must be an article number like 493.857.51",
    "postal_code": "must be 2 to 15 letters, digits, spaces or dashes",
    "payment_method": "must be a payment method token (pm_... or tok_...), never card data",
}


def _reason(error: Any) -> str:
    field = str(error["loc"][-1]) if error["loc"] else ""
    if error["type"] == "string_pattern_mismatch" and field in PATTERN_REASONS:
        return PATTERN_REASONS[field]
    return str(error["msg"]).removeprefix("Value error, ")


def from_validation_error(error: ValidationError) -> Problem:
    """Every pydantic error as a field and a reason."""
    errors = [
        {"field": field_path(tuple(e["loc"])) or "body", "reason": _reason(e)}
        for e in error.errors(include_url=False, include_input=False)
    ]
    return Problem(422, "Invalid request", errors=errors)


def trace_without_values(exc: BaseException) -> str:
    """The traceback of `exc` and its causes without their messages (bootstrap.logs), card
    numbers masked besides."""
    return mask_card_numbers(withheld_trace(exc))


def register_problem_handlers(app: Flask) -> None:
    """Answer every error, expected or not, with a problem document and never a stack trace."""

    @app.errorhandler(Problem)
    def _problem(problem: Problem) -> Response:
        return problem.to_response()

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        return Problem(status, exc.name, detail=exc.description).to_response()

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.error(
            "unhandled error: %s", type(exc).__name__, extra={"exc": trace_without_values(exc)}
        )
        # Our failure, not the client's: 503 invites a retry, which Idempotency-Key makes safe.
        return Problem(
            503, "Service unavailable", detail="please retry with the same Idempotency-Key"
        ).to_response()
