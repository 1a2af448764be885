"""GET /openapi.json and the docs page at /docs/, its Swagger UI served from the package."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify
from flask_swagger_ui import get_swaggerui_blueprint

from intake.openapi.document import build

DOCUMENT_PATH = "/openapi.json"
DOCS_PATH = "/docs"
EXTENSION = "openapi_document"
UI_CONFIG = {
    "app_name": "fulfillment API",
    "validatorUrl": None,  # Swagger UI would send the document to a public validator
}


def document() -> dict[str, Any]:
    """The current app's document, built once: its routes are fixed when it serves."""
    built: dict[str, Any] | None = current_app.extensions.get(EXTENSION)
    if built is None:
        built = current_app.extensions[EXTENSION] = build(current_app)
    return built


def _serve_document() -> Response:
    return jsonify(document())


def register_docs(app: Flask) -> None:
    """Serve the document and the docs page on `app`."""
    app.add_url_rule(DOCUMENT_PATH, "openapi_document", _serve_document)
    app.register_blueprint(
        get_swaggerui_blueprint(DOCS_PATH, DOCUMENT_PATH, config=UI_CONFIG, blueprint_name="docs")
    )
