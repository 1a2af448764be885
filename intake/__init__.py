"""The intake: a thin Flask service that records orders and queues them on SQS."""

from __future__ import annotations

from flask import Flask

from bootstrap import Context, build_context
from bootstrap.logs import configure_logging
from intake import (
    health,
    line_cancel,
    metrics,
    order_actions,
    order_list,
    order_page,
    orders,
    page_line_cancel,
    return_page,
    returns,
    tracking,
)
from intake.admin import register_admin
from intake.cli import admin_cli
from intake.guards import register_guards
from intake.holds import bp as holds_bp
from intake.limits import install_limits
from intake.openapi.serve import register_docs
from intake.ops_cli import ops_cli
from intake.problems import register_problem_handlers
from intake.request_log import register_request_log
from intake.request_metrics import install_request_metrics
from intake.runtime import install
from models.store import geodata
from settings import Settings, get_settings
from telemetry.processes import INTAKE, use_folder

MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings | None = None, context: Context | None = None) -> Flask:
    """The intake app for `settings` (the environment's by default)."""
    settings = settings or get_settings()
    configure_logging(settings)
    # gunicorn's master emptied the folder (intake/serving.py); its workers share it.
    use_folder(settings, INTAKE, fresh=False)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    install(app, context or build_context(settings, publish_in_background=True))
    geodata.warm_up()
    register_request_log(app)
    register_problem_handlers(app)
    install_request_metrics(app)
    register_guards(app)
    install_limits(app, settings)
    register_routes(app)
    app.cli.add_command(admin_cli)
    app.cli.add_command(ops_cli)
    return app


def register_routes(app: Flask) -> None:
    """Every route of the intake, with /openapi.json and the docs page that describe them."""
    app.register_blueprint(orders.bp)
    app.register_blueprint(order_list.bp)
    app.register_blueprint(order_actions.bp)
    app.register_blueprint(holds_bp)
    app.register_blueprint(line_cancel.bp)
    app.register_blueprint(order_page.bp)
    app.register_blueprint(page_line_cancel.bp)
    app.register_blueprint(returns.bp)
    app.register_blueprint(return_page.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(tracking.admin_bp)
    app.register_blueprint(tracking.webhook_bp)
    register_admin(app)
    register_docs(app)
