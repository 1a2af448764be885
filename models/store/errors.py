"""Which failures are worth another attempt."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# Deadlock detected and serialization failure: the transaction lost a race and may run again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_lost_race(exc: BaseException) -> bool:
    """Whether a database error means "run the transaction again"."""
    return (
        isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
    )


# Connection trouble and lost races: the database may answer the next attempt.
TRANSIENT_DB_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
