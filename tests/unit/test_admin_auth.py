"""Admin tokens: what is accepted, and what the 401 says when one is not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from pydantic import SecretStr

from intake.auth import admin_subject, issue_admin_token
from intake.problems import Problem
from models.domain.clock import utcnow
from settings import Settings

SECRET = "unit-test-secret-long-enough-for-hs256-keys"
SETTINGS = Settings(admin_jwt_secret=SecretStr(SECRET), admin_token_minutes=60)


def token_with(secret: str = SECRET, **changes: Any) -> str:
    now = utcnow()
    claims = {
        "sub": "alice",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "scope": "admin",
        "iss": "fulfillment",
        **changes,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, "HS256")


def refusal(header: str | None) -> dict[str, str]:
    with pytest.raises(Problem) as refused:
        admin_subject(SETTINGS, header)
    assert refused.value.status == 401
    assert refused.value.headers["WWW-Authenticate"].startswith("Bearer")
    [error] = refused.value.errors
    return error


def test_an_issued_token_speaks_for_its_subject() -> None:
    token = issue_admin_token(SETTINGS, "alice")

    assert admin_subject(SETTINGS, f"Bearer {token}") == "alice"


def test_an_issued_token_carries_scope_issuer_and_the_configured_lifetime() -> None:
    claims = jwt.decode(
        issue_admin_token(SETTINGS, "alice", minutes=10),
        SECRET,
        algorithms=["HS256"],
        issuer="fulfillment",
    )

    assert claims["scope"] == "admin"
    assert claims["exp"] - claims["iat"] == 600


def test_a_request_without_a_token_is_told_to_send_one() -> None:
    error = refusal(None)

    assert error["field"] == "Authorization"
    assert "Bearer" in error["reason"]


def test_a_basic_auth_header_is_not_a_token() -> None:
    assert refusal("Basic YWxpY2U6c2VjcmV0")["field"] == "Authorization"


def test_a_token_signed_with_another_secret_is_refused() -> None:
    error = refusal(f"Bearer {token_with(secret='someone-else-entirely-with-a-secret-this-long')}")

    assert "not a valid admin token" in error["reason"]


def test_an_expired_token_is_refused_saying_it_expired() -> None:
    expired = token_with(iat=utcnow() - timedelta(hours=2), exp=utcnow() - timedelta(minutes=1))

    assert "expired" in refusal(f"Bearer {expired}")["reason"]


def test_a_token_that_expired_within_the_clock_leeway_still_works() -> None:
    just_expired = token_with(exp=utcnow() - timedelta(seconds=10))

    assert admin_subject(SETTINGS, f"Bearer {just_expired}") == "alice"


def test_a_token_without_the_admin_scope_is_refused() -> None:
    assert "admin scope" in refusal(f"Bearer {token_with(scope='orders:read')}")["reason"]


def test_a_token_from_another_issuer_or_without_expiry_is_refused() -> None:
    assert refusal(f"Bearer {token_with(iss='elsewhere')}")["field"] == "Authorization"
    assert refusal(f"Bearer {token_with(exp=None)}")["field"] == "Authorization"


def test_garbage_in_the_header_is_refused() -> None:
    assert refusal("Bearer not.a.jwt")["field"] == "Authorization"


def test_a_token_needs_a_subject() -> None:
    with pytest.raises(ValueError, match="subject"):
        issue_admin_token(SETTINGS, "  ")
