"""A mail's claim and its record, one statement each: mails are most of the worker's work.

The claim creates the notification row if it is new, takes it for sending if it is pending
(or held by a sender dead long enough), and reads everything the email shows: the order, its
lines with their product names, its payment and its parcels. A mail about a part of a
partially shipped order ('shipped#2', models/domain/mail.py `part_of`) reads that part's
payment and parcels; any other reads payment part 1 (the whole order's) and every parcel.
The record marks the mail sent, adds the timeline entry and ends the task's follow-up row.
Each runs on a connection in autocommit: one round trip, no BEGIN or COMMIT, and as atomic
as a transaction.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from models.domain.mail_parts import part_of

CLAIM = text(
    """
    WITH claimed AS (
        INSERT INTO notification AS n (order_id, kind, dedupe_key, recipient, message_id,
                                       status, attempts, claimed_at, created_at)
        SELECT o.id, :kind, :key, COALESCE(:recipient, o.customer_email), :message_id,
               'sending', 1, :now, :now
        FROM "order" o WHERE o.id = CAST(:order_id AS uuid)
        ON CONFLICT (dedupe_key) DO UPDATE
            SET status = 'sending', claimed_at = EXCLUDED.claimed_at, attempts = n.attempts + 1
            WHERE n.status = 'pending' OR (n.status = 'sending' AND n.claimed_at < :stale_before)
        RETURNING n.recipient, n.message_id, n.attempts
    )
    SELECT c.recipient, c.message_id, c.attempts,
           o.customer_name, o.ship_line1, o.ship_line2, o.ship_city, o.ship_region,
           o.ship_postal_code, o.ship_country, o.delivery_method, o.delivery_cost, o.total,
           o.currency, o.eta, o.pickup_hold_until,
           (SELECT json_build_object('name', w.name, 'address_line1', w.address_line1,
                                     'postal_code', w.postal_code, 'city', w.city,
                                     'country', w.country, 'opening_hours', w.opening_hours)
            FROM allocation a JOIN warehouse w ON w.id = a.warehouse_id
            WHERE a.order_id = o.id AND o.delivery_method = 'self_service'
            ORDER BY a.id LIMIT 1) AS pickup,
           (SELECT json_agg(json_build_object('article_number', l.article_number,
                                              'name', p.name, 'quantity', l.quantity,
                                              'unit_price', l.unit_price,
                                              'cancelled', l.cancelled_quantity,
                                              'in_part', (SELECT COALESCE(sum(a.quantity), 0)
                                                          FROM allocation a
                                                          WHERE a.order_line_id = l.id
                                                            AND a.part = :part
                                                            AND a.released_at IS NULL),
                                              'shipped', (SELECT COALESCE(sum(a.quantity), 0)
                                                          FROM allocation a
                                                          WHERE a.order_line_id = l.id
                                                            AND a.shipped_at IS NOT NULL))
                             ORDER BY l.line_no)
            FROM order_line l LEFT JOIN product p ON p.article_number = l.article_number
            WHERE l.order_id = o.id) AS lines,
           (SELECT json_agg(json_build_object('carrier', s.carrier,
                                              'tracking_number', s.tracking_number,
                                              'tracking_url', s.tracking_url,
                                              'eta', s.eta) ORDER BY s.id)
            FROM shipment s
            WHERE s.order_id = o.id AND (CAST(:every_part AS boolean) OR s.part = :part))
             AS shipments,
           pay.status AS payment_status, pay.amount AS payment_amount,
           pay.failure_code, pay.attempts AS payment_attempts,
           (pay.authorized_amount IS NOT NULL AND pay.captured_at IS NULL) AS payment_uncaptured
    FROM claimed c
    JOIN "order" o ON o.id = CAST(:order_id AS uuid)
    LEFT JOIN payment pay ON pay.order_id = o.id AND pay.part = :part
    """
)

SENT = text(
    """
    WITH ended AS (
        UPDATE notification SET status = 'sent', last_error = NULL, sent_at = :now
        WHERE dedupe_key = :key AND status = 'sending'
    ),
    event AS (
        INSERT INTO order_event (order_id, kind, detail, created_at)
        VALUES (CAST(:order_id AS uuid), 'notified', CAST(:detail AS jsonb), :now)
    ),
    finished AS (
        UPDATE outbox SET done_at = :now WHERE id = :follow_up AND done_at IS NULL
    )
    SELECT 1
    """
)


@dataclass(frozen=True)
class ClaimedMail:
    """A notification taken for sending, with the order as its email shows it."""

    recipient: str
    message_id: str
    attempts: int
    order: dict[str, Any]
    lines: list[dict[str, Any]]
    shipments: list[dict[str, Any]]
    payment: dict[str, Any] | None


def claim(
    connection: Connection,
    *,
    order_id: uuid.UUID,
    kind: str,
    recipient: str | None,
    message_id: str,
    now: datetime,
    stale_before: datetime,
) -> ClaimedMail | None:
    """Take the (order, kind) mail for sending; None if it is sent, ended, or held by another.

    `recipient` None sends to the order's customer. A new row is created already claimed.
    """
    part = part_of(kind)
    row = (
        connection.execute(
            CLAIM,
            {
                "order_id": str(order_id),
                "kind": kind,
                "key": f"{order_id}:{kind}",
                "recipient": recipient,
                "message_id": message_id,
                "now": now,
                "stale_before": stale_before,
                "part": part or 1,
                "every_part": part is None,
            },
        )
        .mappings()
        .first()
    )
    return None if row is None else _claimed(dict(row))


def _claimed(row: dict[str, Any]) -> ClaimedMail:
    payment = None
    if row["payment_status"] is not None:
        payment = {
            "status": row["payment_status"],
            "amount": row["payment_amount"],
            "failure_code": row["failure_code"],
            "attempts": row["payment_attempts"],
            # Authorised and not captured: held on the card, nothing taken yet.
            "uncaptured": bool(row["payment_uncaptured"]),
        }
    return ClaimedMail(
        row["recipient"],
        row["message_id"],
        row["attempts"],
        row,
        list(row["lines"] or []),
        list(row["shipments"] or []),
        payment,
    )


def record_sent(
    connection: Connection,
    *,
    order_id: uuid.UUID,
    kind: str,
    follow_up: int | None,
    now: datetime,
) -> None:
    """The mail is out: mark it sent, put it on the timeline, end the task's follow-up row."""
    connection.execute(
        SENT,
        {
            "key": f"{order_id}:{kind}",
            "order_id": str(order_id),
            "detail": json.dumps({"kind": kind}),
            "follow_up": follow_up,
            "now": now,
        },
    )
