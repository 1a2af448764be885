"""What every request and response gets, whatever the route: hostile URLs refused, no caching."""

from __future__ import annotations

from flask import Flask, Response, request

from intake.problems import Problem


def _refuse_nul_in_url() -> None:
    """A NUL character in the path or the query is a 400: PostgreSQL cannot take one in text."""
    if "\x00" in request.path:
        raise Problem(400, "Invalid request", errors=[{"field": "path", "reason": "has a NUL"}])
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            field = name if "\x00" not in name else "query"
            raise Problem(400, "Invalid request", errors=[{"field": field, "reason": "has a NUL"}])


def _never_cached(response: Response) -> Response:
    """Responses carry order tokens and customers' data: no cache anywhere may keep them."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def register_guards(app: Flask) -> None:
    """Install the guards on `app`."""
    app.before_request(_refuse_nul_in_url)
    app.after_request(_never_cached)
