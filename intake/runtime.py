"""The intake's collaborators, built by the composition root and attached to the app."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app

from bootstrap import Context

EXTENSION = "fulfillment"


def runtime() -> Context:
    """The context of the current app."""
    return cast(Context, current_app.extensions[EXTENSION])


def install(app: Flask, context: Context) -> None:
    """Attach the context to the app."""
    app.extensions[EXTENSION] = context
