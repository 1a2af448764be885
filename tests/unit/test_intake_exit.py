"""An intake worker that exits (SIGTERM) first sends what its background publisher holds."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import cast

from flask import Flask

from bootstrap import Context
from intake import gunicorn_conf
from intake.runtime import install
from settings import get_settings
from tests.unit.test_background_publisher import Gate, row
from workers.adapters.background import BackgroundPublisher


def test_an_exiting_worker_sends_the_rows_its_publisher_still_holds() -> None:
    inner = Gate()
    publisher = BackgroundPublisher(inner)
    app = Flask(__name__)
    install(app, cast(Context, SimpleNamespace(work=SimpleNamespace(publisher=publisher))))
    publisher.publish([row(1)])
    assert inner.entered.wait(5)
    publisher.publish([row(2)])  # waits behind the send under way
    threading.Timer(0.2, inner.gate.set).start()

    gunicorn_conf.worker_exit(None, SimpleNamespace(wsgi=app))

    assert inner.batches == [[1], [2]]


def test_an_app_without_a_background_publisher_exits_quietly() -> None:
    gunicorn_conf.worker_exit(None, SimpleNamespace(wsgi=Flask(__name__)))
    gunicorn_conf.worker_exit(None, SimpleNamespace())


def test_gunicorn_waits_for_requests_as_long_as_the_shutdown_grace() -> None:
    assert gunicorn_conf.graceful_timeout == get_settings().shutdown_grace_seconds
