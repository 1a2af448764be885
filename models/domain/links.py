"""Signed, expiring order links: what a mail carries so its reader can open the order.

A link is `<base>/orders/<id>?access=<expiry>.<signature>`: the signature is an HMAC of the
order id and the expiry under the order-token secret, with a label of its own so that a link
signature is never an order token and an order token never a link signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import datetime, timedelta

ACCESS_PARAMETER = "access"
MAX_ACCESS = 64  # an expiry of up to 12 digits, a dot, 22 characters of signature


def _signature(secret: str, order_id: uuid.UUID, expires: int) -> str:
    message = f"order-link:{order_id}:{expires}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def access_for(secret: str, order_id: uuid.UUID, now: datetime, days: int) -> str:
    """The `access` value that opens the order until `days` after `now`."""
    expires = int((now + timedelta(days=days)).timestamp())
    return f"{expires}.{_signature(secret, order_id, expires)}"


def order_link(base_url: str, secret: str, order_id: uuid.UUID, now: datetime, days: int) -> str:
    """The order's page, opened without its token until `days` after `now`."""
    access = access_for(secret, order_id, now, days)
    return f"{base_url.rstrip('/')}/orders/{order_id}?{ACCESS_PARAMETER}={access}"


def link_opens(secret: str, order_id: uuid.UUID, access: str, now: datetime) -> bool:
    """Whether `access` was signed for this order and has not expired."""
    if len(access) > MAX_ACCESS:
        return False
    expires, _, signature = access.partition(".")
    if not expires.isascii() or not expires.isdigit() or not signature.isascii():
        return False
    if int(expires) < now.timestamp():
        return False
    return hmac.compare_digest(signature, _signature(secret, order_id, int(expires)))
