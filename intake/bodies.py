"""Reading request bodies: JSON only, validated by a pydantic model, faults as problems."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from intake.problems import Problem, from_validation_error

M = TypeVar("M", bound=BaseModel)


def json_body() -> Any:
    """The decoded JSON body, or a 415 / 400 problem."""
    if not request.is_json:
        raise Problem(
            415,
            "Unsupported media type",
            errors=[{"field": "Content-Type", "reason": "must be application/json"}],
        )
    body = request.get_json(silent=True)
    if body is None:
        raise Problem(400, "Malformed JSON", errors=[{"field": "body", "reason": "not valid JSON"}])
    return body


def validated(model: type[M]) -> M:
    """The JSON body as `model`, or a 422 naming every faulty field."""
    try:
        return model.model_validate(json_body())
    except ValidationError as exc:
        raise from_validation_error(exc) from None
