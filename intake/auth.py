"""API tokens: HS256 JWTs with roles, issued by the CLI, required by /admin.

A token names its subject, its roles (`staff:read`, `staff:write`, `customer`), who issued
it and for whom (`iss`, `aud`), when (`iat`, `exp`, at most TOKEN_MAX_MINUTES apart) and
its own id (`jti`), by which it can be revoked before it expires.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from flask import g, request

from intake.problems import Problem
from intake.runtime import runtime
from models.domain.clock import utcnow
from models.store.revocations import is_revoked
from settings import Settings

ALGORITHM = "HS256"
ISSUER = "fulfillment"
AUDIENCE = "fulfillment-api"
STAFF_READ = "staff:read"
STAFF_WRITE = "staff:write"
CUSTOMER = "customer"
ROLES = frozenset({STAFF_READ, STAFF_WRITE, CUSTOMER})
STAFF = (STAFF_READ, STAFF_WRITE)
LEEWAY_SECONDS = 30  # clocks of the issuing and the checking machine may drift this much
MAX_SUBJECT = 100  # the subject becomes the actor of stock movements, a 100-character column
REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss", "aud", "jti", "roles"]
# Reading needs staff:read; anything else staff:write.
READING = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    """Who a valid token speaks for, with what roles, until when."""

    subject: str
    roles: frozenset[str]
    jti: str
    expires_at: datetime


def issue_admin_token(
    settings: Settings,
    subject: str,
    minutes: int | None = None,
    roles: Iterable[str] = STAFF,
) -> str:
    """A signed token for `subject` with `roles`, valid for `minutes` (the setting's default)."""
    subject = subject.strip()
    if not 1 <= len(subject) <= MAX_SUBJECT:
        raise ValueError(f"subject must be 1 to {MAX_SUBJECT} characters")
    lifetime = settings.admin_token_minutes if minutes is None else minutes
    if not 1 <= lifetime <= settings.token_max_minutes:
        raise ValueError(f"minutes must be 1 to {settings.token_max_minutes}")
    wanted = sorted(set(roles))
    if not wanted or not set(wanted) <= ROLES:
        raise ValueError(f"roles must be some of {', '.join(sorted(ROLES))}")
    now = utcnow()
    claims = {
        "sub": subject,
        "iat": now,
        "exp": now + timedelta(minutes=lifetime),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": uuid.uuid4().hex,
        "roles": wanted,
    }
    return jwt.encode(claims, settings.admin_jwt_secret.get_secret_value(), algorithm=ALGORITHM)


def _unauthorized(reason: str) -> Problem:
    return Problem(
        401,
        "Admin token required",
        errors=[{"field": "Authorization", "reason": reason}],
        headers={"WWW-Authenticate": 'Bearer realm="admin"'},
    )


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if it carries one."""
    scheme, _, token = (header or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def decode(settings: Settings, token: str, *, verify_exp: bool = True) -> dict[str, Any]:
    """The claims of a token we signed, checked; jwt.InvalidTokenError otherwise."""
    claims: dict[str, Any] = jwt.decode(
        token,
        settings.admin_jwt_secret.get_secret_value(),
        algorithms=[ALGORITHM],
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway=LEEWAY_SECONDS,
        options={"require": REQUIRED_CLAIMS, "verify_exp": verify_exp},
    )
    lifetime = float(claims["exp"]) - float(claims["iat"])
    if lifetime > settings.token_max_minutes * 60:
        raise jwt.InvalidTokenError(f"lives longer than {settings.token_max_minutes} minutes")
    if not isinstance(claims["jti"], str) or not 1 <= len(claims["jti"]) <= 64:
        raise jwt.InvalidTokenError("jti must be 1 to 64 characters")
    return claims


def expires_at(claims: dict[str, Any]) -> datetime:
    """When a decoded token expires."""
    return datetime.fromtimestamp(float(claims["exp"]), UTC)


class BadToken(Exception):
    """A token that is not one of ours, or no longer good; the message says why."""


def caller_of(settings: Settings, token: str) -> Caller:
    """Who a token speaks for; BadToken saying why it does not."""
    try:
        claims = decode(settings, token)
    except jwt.ExpiredSignatureError:
        raise BadToken("the token has expired; issue a new one") from None
    except jwt.InvalidTokenError as exc:
        raise BadToken(f"not a valid token ({exc})") from None
    subject, roles = claims["sub"], claims["roles"]
    if not isinstance(subject, str) or not 1 <= len(subject) <= MAX_SUBJECT:
        raise BadToken("the token's subject is not usable")
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise BadToken("the token's roles are not a list of names")
    return Caller(subject, frozenset(roles) & ROLES, claims["jti"], expires_at(claims))


def unrevoked(who: Caller) -> Caller:
    """The caller, unless its token was revoked (BadToken)."""
    with runtime().sessions() as session:
        if is_revoked(session, who.jti):
            raise BadToken("the token was revoked; issue a new one")
    return who


def caller(settings: Settings, authorization: str | None) -> Caller:
    """Who the Authorization header's token speaks for, or a 401 problem saying why not."""
    token = bearer_token(authorization)
    if token is None:
        raise _unauthorized("send 'Bearer <admin token>'")
    try:
        return caller_of(settings, token)
    except BadToken as exc:
        raise _unauthorized(str(exc)) from None


def forbidden(need: str) -> Problem:
    """The refusal of a valid token without the role `need`."""
    reason = f"the token does not carry {need}"
    return Problem(403, "Forbidden", errors=[{"field": "Authorization", "reason": reason}])


def authorize(settings: Settings, authorization: str | None, need: str) -> Caller:
    """The caller of a valid token carrying the role `need`: 401 without one, 403 without it."""
    who = caller(settings, authorization)
    if need not in who.roles:
        raise forbidden(need)
    return who


def require_admin() -> None:
    """Before every admin request: a valid, unrevoked token with the role the method needs."""
    rt = runtime()
    need = STAFF_READ if request.method in READING else STAFF_WRITE
    who = authorize(rt.settings, request.headers.get("Authorization"), need)
    try:
        g.admin_subject = unrevoked(who).subject
    except BadToken as exc:
        raise _unauthorized(str(exc)) from None
