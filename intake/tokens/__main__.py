"""`python -m intake.tokens`: print an API token, reading ADMIN_JWT_SECRET and nothing else."""

from __future__ import annotations

import click

from intake.tokens import admin_token, minutes_option, role_option, subject_option
from settings import get_settings


@click.command()
@subject_option
@minutes_option
@role_option
def main(subject: str, minutes: int | None, roles: tuple[str, ...]) -> None:
    """Print an API token."""
    click.echo(admin_token(get_settings(), subject, minutes, roles))


if __name__ == "__main__":
    main()
