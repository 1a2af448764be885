"""`python -m intake.tokens --subject alice`: an admin token from the settings alone.

Signing a token needs ADMIN_JWT_SECRET and nothing else, so this runs without a database,
the app or the rest of the stack (`flask --app intake admin token` builds the whole app).
"""

from __future__ import annotations

import click

from intake.auth import ROLES, STAFF, issue_admin_token
from settings import Settings

# The options both token commands take.
subject_option = click.option(
    "--subject", required=True, help="Who the token is for, e.g. a login name."
)
minutes_option = click.option(
    "--minutes",
    type=click.IntRange(min=1),
    help="Lifetime; ADMIN_TOKEN_MINUTES by default, TOKEN_MAX_MINUTES at most.",
)
role_option = click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(sorted(ROLES)),
    help="A role the token carries (repeat for more); staff:read and staff:write by default.",
)


def admin_token(
    settings: Settings, subject: str, minutes: int | None, roles: tuple[str, ...] = ()
) -> str:
    """A token for `subject`, or a one-line error a terminal can show."""
    try:
        return issue_admin_token(settings, subject, minutes, roles or STAFF)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
