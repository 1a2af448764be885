"""Request plumbing shared by the admin views: bodies, validation, refusals as problems."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from flask import g, request
from pydantic import BaseModel, ValidationError

from intake.problems import Problem, field_error, from_validation_error
from models.catalog import ARTICLE_NUMBER
from models.inventory import Conflict, InventoryError, NotFound

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


def article_number(value: str) -> str:
    """An article number from the path, or a 422 saying what one looks like."""
    if not re.match(ARTICLE_NUMBER, value):
        raise field_error("article_number", "must be an article number like 493.857.51")
    return value


def problem(error: InventoryError) -> Problem:
    """The inventory's refusal as the problem a client can act on."""
    if isinstance(error, NotFound):
        status, title = 404, "Not found"
    elif isinstance(error, Conflict):
        status, title = 409, "Conflict"
    else:
        status, title = 422, "Invalid request"
    return Problem(status, title, errors=[{"field": error.field, "reason": error.reason}])


def actor() -> str:
    """Who is making this change: the admin token's subject."""
    return str(g.admin_subject)
