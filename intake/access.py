"""Who may see and change an order: its guest, its customer account, or staff.

A guest shows the order token (`Authorization: Bearer <order_token>`) or the signed link a
mail carries (`?access=…`, reads only); a customer or staff member shows an API token (a JWT).
Every route with an order id answers a missing order and someone else's order with the same
404, byte for byte, so order ids cannot be probed.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass

from flask import request
from sqlalchemy.orm import Session

from intake.auth import (
    CUSTOMER,
    STAFF_READ,
    STAFF_WRITE,
    BadToken,
    Caller,
    bearer_token,
    caller_of,
    forbidden,
    unrevoked,
)
from intake.problems import Problem
from intake.runtime import runtime
from models.domain.clock import utcnow
from models.domain.links import ACCESS_PARAMETER, link_opens
from models.services.place import hash_token
from models.tables.orders import Order

NOT_FOUND = Problem(404, "Order not found")
REALM = {"WWW-Authenticate": 'Bearer realm="orders"'}


def unauthorized(reason: str) -> Problem:
    """A 401 saying what to send."""
    errors = [{"field": "Authorization", "reason": reason}]
    return Problem(401, "Credentials required", errors=errors, headers=REALM)


@dataclass(frozen=True)
class Viewer:
    """What the request shows: an account's token, an order token, or an order link."""

    account: Caller | None = None
    order_token: str | None = None
    link: str | None = None

    @property
    def customer(self) -> str | None:
        """The customer account's subject, if the request speaks for one (and not for staff)."""
        if self.account and CUSTOMER in self.account.roles and not self.staff(STAFF_READ):
            return self.account.subject
        return None

    def staff(self, role: str) -> bool:
        """Whether the request speaks for staff holding `role`."""
        return self.account is not None and role in self.account.roles


def looks_like_jwt(token: str) -> bool:
    """An API token has three dot-separated parts; an order token has none."""
    return token.count(".") == 2


def account(token: str) -> Caller:
    """The caller of an API token, checked and unrevoked, or a 401 saying why not."""
    try:
        return unrevoked(caller_of(runtime().settings, token))
    except BadToken as exc:
        raise unauthorized(str(exc)) from None


def viewer() -> Viewer:
    """What this request shows, or a 401 when it shows nothing."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is not None:
        return Viewer(account(token)) if looks_like_jwt(token) else Viewer(order_token=token)
    link = request.args.get(ACCESS_PARAMETER)
    if link:
        return Viewer(link=link)
    raise unauthorized("send 'Bearer <order_token>' or 'Bearer <API token>', or open the link")


def require_staff(who: Viewer, role: str) -> None:
    """A 403 unless the request speaks for staff holding `role` (before any order is read)."""
    if not who.staff(role):
        raise forbidden(role)


def order_key(order_id: str) -> uuid.UUID:
    """The order id from the path: anything but a UUID is a missing order."""
    try:
        return uuid.UUID(order_id)
    except ValueError:
        raise NOT_FOUND from None


def _opens(who: Viewer, order: Order, *, change: bool) -> bool:
    if who.staff(STAFF_WRITE if change else STAFF_READ):
        return True
    if who.account is not None:
        return who.customer is not None and order.customer_subject == who.customer
    if who.order_token is not None:
        return hmac.compare_digest(order.guest_token_hash, hash_token(who.order_token))
    secret = runtime().settings.order_token_secret.get_secret_value()
    return who.link is not None and not change and link_opens(secret, order.id, who.link, utcnow())


def check_roles(who: Viewer, *, change: bool) -> None:
    """A 401 for a link asked to change an order; a 403 for an API token that can neither see
    orders as staff nor own them."""
    if change and who.link is not None:
        raise unauthorized("an order link only opens the order: send 'Bearer <order_token>'")
    if who.account is None or who.customer is not None:
        return
    require_staff(who, STAFF_WRITE if change else STAFF_READ)


def order_for(
    session: Session, order_id: str, who: Viewer, *, change: bool = False, lock: bool = False
) -> Order:
    """The order if `who` may see it (or, with `change`, act on it); the same 404 otherwise."""
    check_roles(who, change=change)
    key = order_key(order_id)
    order = session.get(Order, key, with_for_update=lock)
    if order is None or not _opens(who, order, change=change):
        raise NOT_FOUND
    return order
