"""Reading request bodies: JSON only, validated by a pydantic model, faults as problems."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from intake.card_data import texts
from intake.problems import Problem, field_path, from_validation_error

M = TypeVar("M", bound=BaseModel)

# No request the API takes nests deeper than a few levels.
MAX_DEPTH = 32


def json_body() -> Any:
    """The decoded JSON body, or a 415 / 400 / 422 problem.

    Refused as well: JSON nested deeper than MAX_DEPTH (the decoder recurses, and deep
    enough exhausts the interpreter's stack), and a NUL character in any key or value
    (PostgreSQL cannot store one in text, so it would fail after validation had passed).
    """
    if not request.is_json:
        raise Problem(
            415,
            "Unsupported media type",
            errors=[{"field": "Content-Type", "reason": "must be application/json"}],
        )
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise _malformed(f"nested deeper than {MAX_DEPTH} levels") from None
    if body is None:
        raise _malformed("not valid JSON")
    if _deeper_than(body, MAX_DEPTH):
        raise _malformed(f"nested deeper than {MAX_DEPTH} levels")
    _refuse_nul(body)
    return body


def _malformed(reason: str) -> Problem:
    return Problem(400, "Malformed JSON", errors=[{"field": "body", "reason": reason}])


def _deeper_than(document: Any, limit: int) -> bool:
    pending: list[tuple[int, Any]] = [(1, document)]
    while pending:
        depth, value = pending.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            pending += [(depth + 1, item) for item in value.values()]
        elif isinstance(value, list):
            pending += [(depth + 1, item) for item in value]
    return False


def _refuse_nul(body: Any) -> None:
    nul: list[dict[str, str]] = []
    for location, text, _ in texts(body):
        field = field_path(location) or "body"
        if "\x00" in text and all(error["field"] != field for error in nul):
            nul.append({"field": field, "reason": "must not contain a NUL character"})
    if nul:
        raise Problem(422, "Invalid request", errors=nul)


def validated(model: type[M]) -> M:
    """The JSON body as `model`, or a 422 naming every faulty field."""
    try:
        return model.model_validate(json_body())
    except ValidationError as exc:
        raise from_validation_error(exc) from None
