"""`python -m intake.tokens --subject alice`: an admin token from the settings alone.

Signing a token needs ADMIN_JWT_SECRET and nothing else, so this runs without a database,
the app or the rest of the stack (`flask --app intake admin token` builds the whole app).
"""

from __future__ import annotations

import click

from intake.auth import issue_admin_token
from settings import Settings, get_settings


def admin_token(settings: Settings, subject: str, minutes: int | None) -> str:
    """A token for `subject`, or a one-line error a terminal can show."""
    try:
        return issue_admin_token(settings, subject, minutes)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@click.option("--subject", required=True, help="Who the token is for, e.g. a login name.")
@click.option(
    "--minutes", type=click.IntRange(min=1), help="Lifetime; ADMIN_TOKEN_MINUTES by default."
)
def main(subject: str, minutes: int | None) -> None:
    """Print an admin token for the admin API."""
    click.echo(admin_token(get_settings(), subject, minutes))


if __name__ == "__main__":
    main()
