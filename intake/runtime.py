"""The intake's collaborators, built by the composition root and attached to the app."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app

from bootstrap import Context
from workers.adapters.background import BackgroundPublisher

EXTENSION = "fulfillment"


def runtime() -> Context:
    """The context of the current app."""
    return cast(Context, current_app.extensions[EXTENSION])


def install(app: Flask, context: Context) -> None:
    """Attach the context to the app."""
    app.extensions[EXTENSION] = context


def finish_publishing(app: object, timeout: float) -> None:
    """Hand on what the app's background publisher still holds, for up to `timeout` seconds."""
    context = app.extensions.get(EXTENSION) if isinstance(app, Flask) else None
    publisher = getattr(getattr(context, "work", None), "publisher", None)
    if isinstance(publisher, BackgroundPublisher):
        publisher.close(timeout)
