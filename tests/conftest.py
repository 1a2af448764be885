"""Fixtures: real PostgreSQL, Redis, SQS (moto), SMTP and the payment sandbox, one set per run."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context, build_context, install_context
from devstack.postgres import fresh_database
from devstack.services import start_moto, start_payment_sandbox
from intake import create_app
from models.store.db import session_factory
from models.store.unit_of_work import Work
from models.store.warehouses import WarehouseDirectory
from settings import Settings, get_settings
from tests.infra import (
    Mailbox,
    postgres_server,
    redis_server,
    running,
    settings_for_tests,
    smtp_server,
)
from tests.keyed_client import KeyedClient
from workers.adapters.sqs import OrdersQueue


def pytest_addoption(parser: pytest.Parser) -> None:
    """--only-service-tests: the second pass of `make test`, on embedded services."""
    parser.addoption(
        "--only-service-tests",
        action="store_true",
        help="run only the tests that use this run's PostgreSQL and Redis (the infra fixture)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With --only-service-tests, deselect every test that never touches this run's services.

    `make test` runs the integration and end-to-end tiers again on embedded PostgreSQL and
    Redis. A test that does not use `infra` (directly or through any fixture) starts services of
    its own or none, the same on both passes: run again, it would only repeat itself.
    """
    if not config.getoption("only_service_tests"):
        return
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        (kept if "infra" in getattr(item, "fixturenames", ()) else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session")
def infra() -> Iterator[tuple[Settings, Mailbox]]:
    """Every real service, started or found once for the whole run."""
    base = Settings()
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(postgres_server(base))
        database = stack.enter_context(fresh_database(server))
        redis_url = stack.enter_context(redis_server(base))
        moto = stack.enter_context(running(start_moto()))
        sandbox = stack.enter_context(running(start_payment_sandbox()))
        smtp_port, mailbox = stack.enter_context(smtp_server())
        settings = settings_for_tests(
            base,
            database_url=database,
            redis_url=redis_url,
            sqs_endpoint_url=moto.url,
            payment_api_base=sandbox.url,
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
        )
        # The tasks read their broker settings from the environment when first imported.
        os.environ.update(
            {"REDIS_URL": redis_url, "CELERY_QUEUE_PREFIX": settings.celery_queue_prefix}
        )
        get_settings.cache_clear()
        OrdersQueue.from_settings(settings, timeout=5).ensure(
            max_receive_count=settings.sqs_max_receive_count,
            visibility_timeout=settings.sqs_visibility_timeout,
        )
        yield settings, mailbox


@pytest.fixture(scope="session")
def settings(infra: tuple[Settings, Mailbox]) -> Settings:
    """Settings pointing at this run's services."""
    return infra[0]


@pytest.fixture
def mailbox(infra: tuple[Settings, Mailbox]) -> Mailbox:
    """What the SMTP server received."""
    return infra[1]


@pytest.fixture(scope="session")
def sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions on this run's database."""
    return session_factory(settings.require_database_url())


@pytest.fixture(scope="session")
def queue(settings: Settings) -> OrdersQueue:
    """This run's orders queue on moto."""
    return OrdersQueue.from_settings(settings, timeout=5)


@pytest.fixture(scope="session")
def directory() -> WarehouseDirectory:
    """The warehouse directory, read afresh on every use: tests add warehouses as they go."""
    return WarehouseDirectory(refresh=0)


@pytest.fixture(scope="session")
def context(settings: Settings) -> Iterator[Context]:
    """Real adapters, from the composition root: the sandbox over HTTP, SMTP, moto's SQS.

    Built as the intake's is, with no broker: SQS messages go out at once, task rows wait for
    the test to run them in this process (tests/follow_up_support.py) or for real workers.
    """
    context = build_context(settings)
    install_context(context)
    yield context
    install_context(None)


@pytest.fixture(scope="session")
def work(context: Context) -> Work:
    """Units of work on this run's database; their follow-ups wait for the test to run them."""
    return context.work


@pytest.fixture(scope="session")
def app(settings: Settings, context: Context) -> Flask:
    """The intake app on this run's services, sharing the tests' context."""
    app = create_app(settings, context)
    app.test_client_class = KeyedClient
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the intake."""
    return app.test_client()
