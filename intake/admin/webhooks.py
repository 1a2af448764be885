"""/admin/webhooks: the shop's webhook subscriptions, their deliveries, and redelivery."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Response, jsonify, request
from pydantic import Field, ValidationError

from intake.admin.webhook_schemas import (
    Deliveries,
    DeliveriesQuery,
    DeliveryOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
    Subscriptions,
)
from intake.bodies import validated
from intake.openapi import STAFF, operation
from intake.problems import from_validation_error
from intake.runtime import runtime
from models.services import webhook_admin as admin
from models.services.inventory_errors import NotFound
from models.tables.webhooks import WebhookDelivery, WebhookEvent, WebhookSubscription

bp = Blueprint("webhooks", __name__)

# PostgreSQL integers and bigints: a larger number names nothing.
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1
SubscriptionId = Annotated[int, Field(ge=0, le=MAX_ID)]
DeliveryId = Annotated[int, Field(ge=0, le=MAX_BIG_ID)]
# Plain int converters: a number past a column's range is a 404 from the view, as any unknown id.
ONE = "/webhooks/<int:subscription_id>"
ONE_PATH = {"subscription_id": SubscriptionId}


def _in_range(subscription_id: int, delivery_id: int = 0) -> None:
    """A 404 for an id no row can have (a larger number than its column holds)."""
    if subscription_id > MAX_ID:
        raise NotFound("subscription_id", f"no webhook subscription {subscription_id}")
    if delivery_id > MAX_BIG_ID:
        raise NotFound("delivery_id", f"no delivery {delivery_id}")


def subscription_view(subscription: WebhookSubscription) -> dict[str, Any]:
    """A subscription as JSON, never with its secret."""
    return {
        "id": subscription.id,
        "url": subscription.url,
        "event_types": list(subscription.event_types),
        "description": subscription.description,
        "active": subscription.active,
        "created_at": subscription.created_at.isoformat(),
        "failing_since": subscription.failing_since and subscription.failing_since.isoformat(),
        "disabled_at": subscription.disabled_at and subscription.disabled_at.isoformat(),
        "disabled_reason": subscription.disabled_reason,
    }


def delivery_view(delivery: WebhookDelivery, event_type: str, log: list[Any]) -> dict[str, Any]:
    """A delivery as JSON, with its log of attempts."""
    return {
        "id": delivery.id,
        "event_id": f"evt_{delivery.event_id}",
        "event_type": event_type,
        "order_id": str(delivery.order_id),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_latency_ms": delivery.last_latency_ms,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at.isoformat(),
        "finished_at": delivery.finished_at and delivery.finished_at.isoformat(),
        "log": [
            {
                "attempt": a.attempt,
                "at": a.at.isoformat(),
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error": a.error,
                "outcome": a.outcome,
            }
            for a in log
        ],
    }


@bp.post("/webhooks")
@operation(
    body=SubscriptionIn, replies={201: SubscriptionCreated}, problems=(415, 422, 429), auth=STAFF
)
def add_subscription() -> tuple[Response, int]:
    """Subscribe an endpoint to order events; the answer shows the signing secret, once."""
    body = validated(SubscriptionIn)
    with runtime().sessions() as session, session.begin():
        made = admin.create_subscription(session, **body.model_dump())
        return jsonify({**subscription_view(made), "secret": made.secret}), 201


@bp.get("/webhooks")
@operation(replies={200: Subscriptions}, problems=(429,), auth=STAFF)
def list_subscriptions() -> Response:
    """Every subscription, active or not, by id."""
    with runtime().sessions() as session:
        found = admin.all_subscriptions(session)
        return jsonify({"subscriptions": [subscription_view(s) for s in found]})


@bp.get(ONE)
@operation(replies={200: SubscriptionOut}, problems=(429,), auth=STAFF, path=ONE_PATH)
def get_subscription(subscription_id: int) -> Response:
    """One subscription."""
    _in_range(subscription_id)
    with runtime().sessions() as session:
        return jsonify(subscription_view(admin.subscription(session, subscription_id)))


@bp.patch(ONE)
@operation(
    body=SubscriptionPatch,
    replies={200: SubscriptionOut},
    problems=(415, 422, 429),
    auth=STAFF,
    path=ONE_PATH,
)
def change_subscription(subscription_id: int) -> Response:
    """Change the URL, event types or description; disable it, or enable it again."""
    body = validated(SubscriptionPatch)
    _in_range(subscription_id)
    with runtime().sessions() as session, session.begin():
        changed = admin.update_subscription(session, subscription_id, **body.model_dump())
        return jsonify(subscription_view(changed))


@bp.delete(ONE)
@operation(replies={204: None}, problems=(429,), auth=STAFF, path=ONE_PATH)
def remove_subscription(subscription_id: int) -> tuple[str, int]:
    """Remove the subscription, its deliveries and their log."""
    _in_range(subscription_id)
    with runtime().sessions() as session, session.begin():
        admin.delete_subscription(session, subscription_id)
    return "", 204


def _deliveries_query() -> DeliveriesQuery:
    try:
        return DeliveriesQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise from_validation_error(exc) from None


@bp.get(f"{ONE}/deliveries")
@operation(
    replies={200: Deliveries},
    problems=(422, 429),
    auth=STAFF,
    query=DeliveriesQuery,
    path=ONE_PATH,
)
def list_deliveries(subscription_id: int) -> Response:
    """The subscription's deliveries, newest first, each with its attempts, answers and
    latencies (`?limit=`, at most 200; `?before=<id>` for the next page)."""
    query = _deliveries_query()
    _in_range(subscription_id)
    with runtime().sessions() as session:
        found = admin.deliveries(session, subscription_id, limit=query.limit, before=query.before)
        logs = admin.attempts(session, [d.id for d in found])
        types = admin.event_types_of(session, [d.event_id for d in found])
        views = [delivery_view(d, types[d.event_id], logs[d.id]) for d in found]
        return jsonify({"deliveries": views})


@bp.post(f"{ONE}/deliveries/<int:delivery_id>/redeliver")
@operation(
    replies={202: DeliveryOut},
    problems=(409, 429),
    auth=STAFF,
    path={**ONE_PATH, "delivery_id": DeliveryId},
)
def redeliver(subscription_id: int, delivery_id: int) -> tuple[Response, int]:
    """Send a delivery again, whatever became of it (after the ones before it of its order)."""
    _in_range(subscription_id, delivery_id)
    with runtime().sessions() as session, session.begin():
        delivery = admin.redeliver(session, subscription_id, delivery_id)
        event = session.get(WebhookEvent, delivery.event_id)
        assert event is not None
        log = admin.attempts(session, [delivery.id])[delivery.id]
        return jsonify(delivery_view(delivery, event.type, log)), 202
