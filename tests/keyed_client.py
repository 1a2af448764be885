"""A test client that, like a well-behaved shop, sends each new order with a fresh key.

`POST /orders` requires an Idempotency-Key (IDEMPOTENCY_KEY_REQUIRED). Tests that are not
about the key get a fresh one; a test that sends its own header, even an empty one, keeps it.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

HEADER = "Idempotency-Key"


def sf_key(key: str | uuid.UUID | None = None) -> str:
    """`key` (a fresh UUID by default) as the structured-field string the header takes."""
    return f'"{key or uuid.uuid4()}"'


class KeyedClient(FlaskClient):
    """FlaskClient adding a fresh Idempotency-Key to a `POST /orders` that has none."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        """As FlaskClient.open, with the key added where a shop would send one."""
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "/")
        if kwargs.get("method") == "POST" and path.split("?")[0] == "/orders":
            headers = Headers(kwargs.get("headers") or {})
            if HEADER not in headers:
                headers[HEADER] = sf_key()
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)
