"""API tokens: what is accepted, what the 401 or 403 says when one is not, and the attacks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from pydantic import SecretStr

from intake.auth import STAFF_READ, STAFF_WRITE, authorize, issue_admin_token
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
        "iss": "fulfillment",
        "aud": "fulfillment-api",
        "jti": "a-token-id",
        "roles": [STAFF_READ, STAFF_WRITE],
        **changes,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, "HS256")


def refusal(header: str | None, need: str = STAFF_READ, status: int = 401) -> dict[str, str]:
    with pytest.raises(Problem) as refused:
        authorize(SETTINGS, header, need)
    assert refused.value.status == status
    if status == 401:
        assert refused.value.headers["WWW-Authenticate"].startswith("Bearer")
    [error] = refused.value.errors
    return error


def test_an_issued_token_speaks_for_its_subject() -> None:
    token = issue_admin_token(SETTINGS, "alice")

    assert authorize(SETTINGS, f"Bearer {token}", STAFF_READ).subject == "alice"


def test_an_issued_token_carries_roles_issuer_audience_an_id_and_the_lifetime() -> None:
    first, second = (issue_admin_token(SETTINGS, "alice", minutes=10) for _ in range(2))
    claims = jwt.decode(
        first, SECRET, algorithms=["HS256"], issuer="fulfillment", audience="fulfillment-api"
    )

    assert claims["roles"] == [STAFF_READ, STAFF_WRITE]
    assert claims["exp"] - claims["iat"] == 600
    assert claims["jti"] != jwt.decode(second, options={"verify_signature": False})["jti"]


def test_a_request_without_a_token_is_told_to_send_one() -> None:
    error = refusal(None)

    assert error["field"] == "Authorization"
    assert "Bearer" in error["reason"]


def test_a_basic_auth_header_is_not_a_token() -> None:
    assert refusal("Basic YWxpY2U6c2VjcmV0")["field"] == "Authorization"


def test_a_token_signed_with_another_secret_is_refused() -> None:
    error = refusal(f"Bearer {token_with(secret='someone-else-entirely-with-a-secret-this-long')}")

    assert "not a valid token" in error["reason"]


def test_an_expired_token_is_refused_saying_it_expired() -> None:
    expired = token_with(iat=utcnow() - timedelta(hours=1), exp=utcnow() - timedelta(minutes=1))

    assert "expired" in refusal(f"Bearer {expired}")["reason"]


def test_a_token_that_expired_within_the_clock_leeway_still_works() -> None:
    just_expired = token_with(exp=utcnow() - timedelta(seconds=10))

    assert authorize(SETTINGS, f"Bearer {just_expired}", STAFF_READ).subject == "alice"


def test_a_token_without_the_role_a_route_needs_is_forbidden() -> None:
    reader = f"Bearer {token_with(roles=[STAFF_READ])}"
    customer = f"Bearer {token_with(roles=['customer'])}"

    assert authorize(SETTINGS, reader, STAFF_READ).subject == "alice"
    assert STAFF_WRITE in refusal(reader, STAFF_WRITE, status=403)["reason"]
    assert STAFF_READ in refusal(customer, STAFF_READ, status=403)["reason"]
    assert refusal(f"Bearer {token_with(roles='staff:read')}")["field"] == "Authorization"


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "someone-else"},
        {"aud": None},
        {"jti": None},
        {"roles": None},
        {"iat": None},
        {"iss": "elsewhere"},
        # Ten years, signed with our own key: no token may live longer than the cap.
        {"exp": utcnow() + timedelta(days=3650)},
    ],
)
def test_a_token_missing_or_bending_a_claim_is_refused(changes: dict[str, Any]) -> None:
    assert "not a valid token" in refusal(f"Bearer {token_with(**changes)}")["reason"]


def test_an_unsigned_token_or_one_whose_claims_were_edited_is_refused() -> None:
    unsigned = jwt.encode({"sub": "mallory", "roles": [STAFF_WRITE]}, "", algorithm="none")
    head, _, signature = token_with().split(".")
    # Alice's signature under claims that say Mallory.
    edited = ".".join([head, token_with(sub="mallory").split(".")[1], signature])

    assert "not a valid token" in refusal(f"Bearer {unsigned}")["reason"]
    assert "not a valid token" in refusal(f"Bearer {edited}")["reason"]


def test_a_lifetime_beyond_the_cap_is_not_issued() -> None:
    with pytest.raises(ValueError, match="minutes"):
        issue_admin_token(SETTINGS, "alice", minutes=SETTINGS.token_max_minutes + 1)
    with pytest.raises(ValueError, match="roles"):
        issue_admin_token(SETTINGS, "alice", roles=["root"])


def test_a_token_from_another_issuer_or_without_expiry_is_refused() -> None:
    assert refusal(f"Bearer {token_with(iss='elsewhere')}")["field"] == "Authorization"
    assert refusal(f"Bearer {token_with(exp=None)}")["field"] == "Authorization"


def test_garbage_in_the_header_is_refused() -> None:
    assert refusal("Bearer not.a.jwt")["field"] == "Authorization"


def test_a_token_needs_a_subject() -> None:
    with pytest.raises(ValueError, match="subject"):
        issue_admin_token(SETTINGS, "  ")
