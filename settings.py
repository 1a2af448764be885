"""The one settings object: every knob of the system, read from the environment here only."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_FLOWER_PASSWORD = "fulfillment"  # noqa: S105 - a development default, refused in production
DEV_PAYMENT_KEY = "sk_test_sandbox"
DEV_ADMIN_SECRET = "development-admin-secret-change-me"  # noqa: S105 - refused in production
DEV_WEBHOOK_SECRET = "development-webhook-secret-change-me"  # noqa: S105 - refused in production
DEV_METRICS_TOKEN = "development-metrics-token-change-me"  # noqa: S105 - refused in production
DEV_ORDER_TOKEN_SECRET = "development-order-token-secret-change-me"  # noqa: S105 - as above
DEV_SECRETS = frozenset(
    {
        DEV_FLOWER_PASSWORD,
        DEV_PAYMENT_KEY,
        DEV_ADMIN_SECRET,
        DEV_WEBHOOK_SECRET,
        DEV_METRICS_TOKEN,
        DEV_ORDER_TOKEN_SECRET,
    }
)
# Production's secrets are at least this long: HS256 wants a key as long as its hash.
MIN_SECRET_BYTES = 32
PRODUCTION_SECRETS = (
    "flower_password",
    "payment_api_key",
    "admin_jwt_secret",
    "carrier_webhook_secret",
    "metrics_token",
    "order_token_secret",
)


class Settings(BaseSettings):
    """Configuration for intake, dispatcher, workers and the local stack."""

    # An invalid setting's error names the setting, never the values given: they hold secrets.
    model_config = SettingsConfigDict(
        env_prefix="", case_sensitive=False, extra="ignore", hide_input_in_errors=True
    )

    environment: Literal["development", "test", "production"] = "development"
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    # Unset: `make run` and the tests start embedded ones; the services themselves refuse to start.
    database_url: str | None = None
    redis_url: str | None = None

    sqs_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    aws_access_key_id: str = "testing"
    aws_secret_access_key: SecretStr = SecretStr("testing")
    orders_queue: str = "fulfillment-orders"
    orders_dlq: str = "fulfillment-orders-dlq"
    sqs_max_receive_count: int = Field(5, ge=1, le=1000)
    sqs_wait_seconds: int = Field(20, ge=0, le=20)
    # Short, so a message held by a dispatcher that died comes back well within a minute.
    sqs_visibility_timeout: int = Field(30, ge=1)
    sqs_publish_timeout: float = Field(3.0, gt=0)

    celery_queue_prefix: str = ""
    broker_visibility_timeout: int = Field(3600, ge=60)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_ca_file: str | None = None
    smtp_timeout: float = 10.0
    # How mail leaves: an SMTP server, or Amazon SES with the AWS_* credentials and region.
    mail_transport: Literal["smtp", "ses"] = "smtp"
    # None talks to AWS SES; a URL points the SES client at moto or another local endpoint.
    ses_endpoint_url: str | None = None
    mail_from: str = "Fulfillment <orders@fulfillment.example>"
    operations_email: str = "operations@fulfillment.example"

    # None talks to the real Stripe API; a URL points the official SDK at a compatible service.
    payment_api_base: str | None = None
    payment_api_key: SecretStr = SecretStr(DEV_PAYMENT_KEY)
    payment_timeout: float = Field(10.0, gt=0)
    payment_attempts: int = Field(3, ge=1, le=10)
    # When the card is charged: at_order takes the money when the order is allocated;
    # at_shipment only authorises it then, and each shipment captures what it carries.
    payment_capture: Literal["at_order", "at_shipment"] = "at_shipment"
    # An authorisation that lapses within this many hours before it is captured is renewed
    # (or the order held for staff); the beat looks every authorization_renew_interval seconds.
    authorization_renew_hours: int = Field(24, ge=1, le=24 * 30)
    authorization_renew_interval: float = Field(600.0, gt=0)
    # Threads on the payments worker: a charge mostly waits on the gateway, not the CPU.
    payments_concurrency: int = Field(16, ge=1, le=256)
    # After SIGTERM, how long a process finishes what it holds (a running task, a batch of
    # messages, a request) before it gives the rest back and exits.
    shutdown_grace_seconds: int = Field(60, ge=1, le=3600)

    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    delivery_cost_self_service: int = Field(0, ge=0)
    delivery_cost_curbside: int = Field(4900, ge=0)
    delivery_cost_in_door: int = Field(9900, ge=0)
    delivery_eta_days: int = Field(3, ge=0, le=365)
    # How long a pickup order ready at its warehouse is held before it is cancelled and refunded.
    pickup_hold_days: int = Field(7, ge=1, le=365)
    # Holds for review before payment (README "Holds"): unset (or false) turns a rule off.
    hold_amount_above: int | None = Field(None, ge=0)
    hold_country_mismatch: bool = False
    hold_orders_per_email_hour: int | None = Field(None, ge=1)
    hold_imprecise_address: bool = False
    # How long a held order keeps its stock, and an order not yet paid, before it is cancelled.
    hold_reservation_hours: int = Field(72, ge=1, le=24 * 365)
    reservation_minutes: int = Field(1440, ge=1)
    reservation_expiry_interval: float = Field(300.0, gt=0)
    # How many days after delivery (or collection) a customer may open a return.
    return_window_days: int = Field(30, ge=0, le=3650)
    # When no combination of warehouses holds an order: refuse it, hold it until stock arrives,
    # or ship the lines in stock now and the rest as later parts (partial fulfilment).
    shortage_policy: Literal["reject", "backorder", "ship_available"] = "reject"
    # Orders of up to this many lines are split over provably the fewest warehouses.
    allocation_exact_max_lines: int = Field(8, ge=0, le=50)
    low_stock_threshold: int = Field(5, ge=0)
    backorder_retry_interval: float = Field(10.0, gt=0)
    low_stock_sweep_interval: float = Field(30.0, gt=0)
    # How long a worker trusts its list of warehouses before reading it again.
    warehouse_cache_seconds: float = Field(60.0, ge=0)
    max_line_quantity: int = Field(100, ge=1)
    max_order_lines: int = Field(50, ge=1)

    public_base_url: str = "http://127.0.0.1:8000"
    idempotency_key_ttl_hours: int = Field(24, ge=24)
    # Without a key a retried POST /orders cannot be told from a new order.
    idempotency_key_required: bool = True
    # How long the order link in a mail opens the order without its token.
    order_link_days: int = Field(30, ge=1, le=366)
    # The intake publishes its own messages; the relay leaves them this long before it does.
    outbox_relay_grace_seconds: float = Field(5.0, ge=0)
    outbox_relay_interval: float = Field(2.0, gt=0)
    # How long a published task may take before the relay publishes it again: a task lost
    # with the broker's memory runs again after this, so recovery takes about this long.
    follow_up_lease_seconds: float = Field(40.0, gt=0)
    watchdog_interval: float = Field(30.0, gt=0)
    step_sla_seconds: int = Field(300, ge=1)
    reconcile_interval: float = Field(60.0, gt=0)

    # The test suite uses these servers when they answer, and embedded ones when they do not
    # (or always, with TEST_EMBEDDED=1, so both paths are exercised).
    test_database_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    test_redis_url: str = "redis://127.0.0.1:6379/0"
    test_embedded: bool = False
    # Where `make run` keeps its embedded PostgreSQL's data, the mailbox and where it runs
    # (stack.json, which `make demo` reads); a relative path is taken from the repository root.
    devstack_data_dir: str = ".devstack"

    # Admin API tokens are HS256 JWTs signed with this secret (`flask --app intake admin token`).
    admin_jwt_secret: SecretStr = SecretStr(DEV_ADMIN_SECRET)
    admin_token_minutes: int = Field(60, ge=1)
    # No token lives longer than this, whoever signed it: a longer one is refused.
    token_max_minutes: int = Field(24 * 60, ge=1)
    # Carrier tracking webhooks are HMAC-SHA256 signed with this secret; older ones are refused.
    carrier_webhook_secret: SecretStr = SecretStr(DEV_WEBHOOK_SECRET)
    carrier_webhook_tolerance_seconds: int = Field(300, ge=1)

    # Webhooks to the shop: how long a subscriber has to answer, how often and how far apart a
    # delivery is tried, and how long a subscription may fail before it is disabled.
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60)
    # Below the relay's limit of publishes per follow-up (models/services/relay.py).
    webhook_max_attempts: int = Field(20, ge=1, le=25)
    webhook_backoff_base_seconds: float = Field(2.0, gt=0)
    webhook_backoff_cap_seconds: float = Field(3600.0, gt=0)
    webhook_disable_after_hours: float = Field(24.0, gt=0)

    # Task events (received, started, succeeded...) for Flower and `celery events`: a Redis
    # publish per event in the workers, and Flower's handling of each (see "Performance").
    worker_events: bool = True
    flower_user: str = "admin"
    flower_password: SecretStr = SecretStr(DEV_FLOWER_PASSWORD)
    # A guest's order token is derived from the order id with this key, so no copy of it is
    # kept: the order stores its hash, and a replayed POST /orders derives it again.
    order_token_secret: SecretStr = SecretStr(DEV_ORDER_TOKEN_SECRET)
    # GET /metrics answers only `Authorization: Bearer <this>` (Prometheus: `authorization`).
    metrics_token: SecretStr = SecretStr(DEV_METRICS_TOKEN)
    # Counters and histograms of every process of a host (or container), one folder per
    # process kind; unset, each process keeps its own in memory (see README "Metrics").
    metrics_dir: str | None = None
    # Where the dispatcher and each Celery worker serve their /metrics; unset, they serve none
    # (on one host the intake's /metrics shows every process kind's counts).
    metrics_port: int | None = Field(None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"

    # Rate limits per client address, in limits notation ("120/minute", "5/second;1000/hour"),
    # counted in Redis. Failures alone count for order reads and admin auth, so a customer
    # polling their order is never limited; once an address is over, it is refused everything
    # the limit covers until the window ends. Off for loads from one address (benchmarks).
    rate_limits_enabled: bool = True
    rate_limit_order_creation: str = "120/minute"
    rate_limit_order_read_failures: str = "20/minute"
    rate_limit_admin_auth_failures: str = "10/minute"
    rate_limit_carrier_webhook: str = "600/minute"
    # Proxies in front of the intake, each appending the address it saw to X-Forwarded-For:
    # the client is the address that many hops back. 0 trusts no such header (anyone can send it).
    proxy_hops: int = Field(0, ge=0, le=10)

    @field_validator(
        "rate_limit_order_creation",
        "rate_limit_order_read_failures",
        "rate_limit_admin_auth_failures",
        "rate_limit_carrier_webhook",
    )
    @classmethod
    def _a_rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must be a rate limit such as 120/minute") from None
        return value

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        for field in PRODUCTION_SECRETS:
            # Each is read from the variable of its name in capitals (no prefix).
            name, value = field.upper(), getattr(self, field).get_secret_value()
            if value in DEV_SECRETS:
                raise ValueError(f"{name} must be set in production: it is a development default")
            if len(value.encode()) < MIN_SECRET_BYTES:
                raise ValueError(f"{name} must be at least {MIN_SECRET_BYTES} bytes in production")
        return self

    def require_database_url(self) -> str:
        """The database URL, or a clear error naming the setting."""
        if not self.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        return self.database_url

    def require_redis_url(self) -> str:
        """The Redis URL, or a clear error naming the setting."""
        if not self.redis_url:
            raise RuntimeError("REDIS_URL is not set")
        return self.redis_url

    def delivery_costs(self) -> dict[str, int]:
        """Delivery cost in minor units by delivery method."""
        return {
            "self_service": self.delivery_cost_self_service,
            "curbside": self.delivery_cost_curbside,
            "in_door": self.delivery_cost_in_door,
        }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()


def child_environment(overrides: dict[str, str]) -> dict[str, str]:
    """The environment for a child process: this one's, with the given settings overridden."""
    return {**os.environ, **{key.upper(): value for key, value in overrides.items()}}


def _env_value(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return str(value).lower() if isinstance(value, bool) else str(value)


def as_environment(settings: Settings) -> dict[str, str]:
    """Every setting of `settings` as the environment variables that would reproduce it."""
    return {
        name.upper(): _env_value(value)
        for name, value in settings.model_dump().items()
        if value is not None
    }
