"""Admin tokens: HS256 JWTs with the admin scope, issued by the CLI and required by /admin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
from flask import g, request

from intake.problems import Problem
from intake.runtime import runtime
from models.domain.clock import utcnow
from settings import Settings

ALGORITHM = "HS256"
ISSUER = "fulfillment"
SCOPE = "admin"
LEEWAY_SECONDS = 30  # clocks of the issuing and the checking machine may drift this much
MAX_SUBJECT = 100  # the subject becomes the actor of stock movements, a 100-character column
REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss", "scope"]


def issue_admin_token(settings: Settings, subject: str, minutes: int | None = None) -> str:
    """A signed admin token for `subject`, valid for `minutes` (the setting's by default)."""
    subject = subject.strip()
    if not 1 <= len(subject) <= MAX_SUBJECT:
        raise ValueError(f"subject must be 1 to {MAX_SUBJECT} characters")
    lifetime = settings.admin_token_minutes if minutes is None else minutes
    if lifetime < 1:
        raise ValueError("minutes must be 1 or more")
    now = utcnow()
    claims = {
        "sub": subject,
        "iat": now,
        "exp": now + timedelta(minutes=lifetime),
        "scope": SCOPE,
        "iss": ISSUER,
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


def _claims(settings: Settings, token: str) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            settings.admin_jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("the admin token has expired; issue a new one") from None
    except jwt.InvalidTokenError as exc:
        raise _unauthorized(f"not a valid admin token ({exc})") from None


def admin_subject(settings: Settings, authorization: str | None) -> str:
    """Who the Authorization header's admin token speaks for, or a 401 problem saying why not."""
    token = bearer_token(authorization)
    if token is None:
        raise _unauthorized("send 'Bearer <admin token>'")
    claims = _claims(settings, token)
    if SCOPE not in str(claims["scope"]).split():
        raise _unauthorized("the token does not carry the admin scope")
    subject = claims["sub"]
    if not isinstance(subject, str) or not 1 <= len(subject) <= MAX_SUBJECT:
        raise _unauthorized("the token's subject is not usable")
    return subject


def require_admin() -> None:
    """Before every admin request: refuse it without a valid admin token."""
    g.admin_subject = admin_subject(runtime().settings, request.headers.get("Authorization"))
