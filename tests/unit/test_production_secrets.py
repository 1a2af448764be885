"""Production refuses weak secrets, and says which setting without ever printing a value."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from settings import DEV_ADMIN_SECRET, DEV_WEBHOOK_SECRET, PRODUCTION_SECRETS, Settings

STRONG = {
    "flower_password": "a-flower-password-of-thirty-two-bytes",
    "payment_api_key": "sk_live_a-payment-key-of-thirty-two-bytes",
    "admin_jwt_secret": "an-admin-jwt-secret-of-thirty-two-bytes",
    "carrier_webhook_secret": "a-carrier-webhook-secret-of-32-bytes",
    "metrics_token": "a-metrics-token-of-thirty-two-bytes",
    "order_token_secret": "an-order-token-secret-of-thirty-two-bytes",
}


def production(**overrides: str) -> Settings:
    return Settings.model_validate({"environment": "production", **STRONG, **overrides})


def refusal(**overrides: str) -> str:
    with pytest.raises(ValidationError) as refused:
        production(**overrides)
    return str(refused.value)


def test_strong_secrets_are_taken() -> None:
    assert production().environment == "production"
    assert set(STRONG) == set(PRODUCTION_SECRETS)


@pytest.mark.parametrize("field", PRODUCTION_SECRETS)
def test_a_short_secret_is_refused_by_name_and_never_printed(field: str) -> None:
    short = "short-but-secret-31-bytes-long!"
    said = refusal(**{field: short})

    assert f"{field.upper()} must be at least 32 bytes" in said
    assert short not in said
    assert all(value not in said for value in STRONG.values())


def test_any_development_default_is_refused_in_any_secret() -> None:
    said = refusal(admin_jwt_secret=DEV_WEBHOOK_SECRET)

    assert "ADMIN_JWT_SECRET must be set in production" in said
    assert DEV_WEBHOOK_SECRET not in said
    assert DEV_ADMIN_SECRET not in refusal(carrier_webhook_secret=DEV_ADMIN_SECRET)


def test_outside_production_the_development_defaults_serve() -> None:
    assert Settings.model_validate({"environment": "development"}).admin_jwt_secret
