"""Request plumbing shared by the admin views: paths, refusals as problems, the actor."""

from __future__ import annotations

import re

from flask import g

from intake.problems import Problem, field_error
from models.services.inventory_errors import Conflict, InventoryError, NotFound
from models.tables.catalog import ARTICLE_NUMBER


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
