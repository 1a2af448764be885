"""Looking at the system from outside: read-only SQL, the gateway's ledger, the mailbox, the DLQ."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import psycopg
import redis
import requests

from models.domain.mail import SUBJECTS
from models.domain.webhooks import TIMELINE_TYPES
from settings import Settings
from tests.chaos.facts import Charge, LineRow, MailRow, OrderRow, StockRow
from tests.chaos.mailkinds import MailReader
from tests.chaos.mailsink import MailSink
from tests.chaos.rest import Snapshot
from workers.adapters.sqs import sqs_client
from workers.celery_queues import QUEUES, queue_name

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeFilterType

# Work the system owes, as rows: each query counts them, or finds its table gone (None).
PENDING_ROWS = {
    "follow-ups not done": "SELECT count(*) FROM outbox WHERE done_at IS NULL"
    " AND failed_at IS NULL",
    "mails not sent yet": "SELECT count(*) FROM notification"
    " WHERE status IN ('pending', 'sending')",
    "refunds queued, not done": "SELECT count(*) FROM payment WHERE status = 'refund_pending'",
    "webhook deliveries pending": "SELECT count(*) FROM webhook_delivery WHERE status = 'pending'",
}
# The timeline kinds the shop hears of (every one, as the run subscribes to all types).
HOOKED_KINDS = ", ".join(f"'{kind}'" for kind in sorted(TIMELINE_TYPES))
# The pipeline's queues on the broker; the maintenance queue only ever holds beat's ticks.
PIPELINE_QUEUES = tuple(name for name in QUEUES if name != "maintenance")


class Observer:
    """Reads what the scorecard needs; it never writes (the session is read-only)."""

    def __init__(self, settings: Settings, sandbox: str, sink: MailSink) -> None:
        """An observer of the system these settings describe."""
        self._settings, self._sandbox, self._sink = settings, sandbox, sink
        self._lock = threading.Lock()
        self._connection: psycopg.Connection[Any] | None = None

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def rows(self, sql: str) -> list[tuple[Any, ...]] | None:
        """The rows a query returns; None when a table or column it names is not there."""
        with self._lock:
            if self._connection is None or self._connection.closed:
                url = self._settings.require_database_url()
                self._connection = psycopg.connect(
                    url, autocommit=True, options="-c default_transaction_read_only=on"
                )
            try:
                return self._connection.execute(sql).fetchall()
            except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
                return None

    def orders(self) -> list[OrderRow]:
        """Every order of this run (the database is the run's own)."""
        found = (
            self.rows(
                "SELECT o.id::text, o.status, o.total, o.customer_email, o.total - COALESCE("
                " (SELECT sum(l.cancelled_quantity * l.unit_price) FROM order_line l"
                "  WHERE l.order_id = o.id), 0)"
                ' FROM "order" o'
            )
            or []
        )
        return [OrderRow(str(i), str(s), int(t), str(e), int(d)) for i, s, t, e, d in found]

    def lines(self) -> list[LineRow]:
        """Every order line."""
        found = self.rows("SELECT order_id::text, article_number, quantity FROM order_line") or []
        return [LineRow(str(o), str(a), int(q)) for o, a, q in found]

    def stock(self) -> list[StockRow]:
        """Every stock row, by warehouse code."""
        found = self.rows(
            "SELECT w.code, s.article_number, s.on_hand, s.reserved"
            " FROM stock s JOIN warehouse w ON w.id = s.warehouse_id"
        )
        return [StockRow(str(w), str(a), int(h), int(r)) for w, a, h, r in found or []]

    def refunded_in_db(self) -> frozenset[str]:
        """Orders whose payment the database calls refunded."""
        found = self.rows("SELECT order_id::text FROM payment WHERE status = 'refunded'") or []
        return frozenset(str(row[0]) for row in found)

    def pending_rows(self) -> dict[str, int | None]:
        """Counts of rows that stand for work still owed, and of tasks waiting on the broker."""
        counts = {name: self.rows(sql) for name, sql in PENDING_ROWS.items()}
        found = {name: None if rows is None else int(rows[0][0]) for name, rows in counts.items()}
        return found | {"tasks waiting on the broker": self.broker_backlog()}

    def broker_unacknowledged(self) -> int:
        """Tasks taken by workers and never acknowledged."""
        # A killed worker's tasks come back only after BROKER_VISIBILITY_TIMEOUT (an hour).
        client = redis.Redis.from_url(self._settings.require_redis_url(), socket_timeout=5)
        try:
            # The Redis transport keeps them in one hash under this name.
            return int(client.hlen("unacked"))
        finally:
            client.close()

    def broker_backlog(self) -> int:
        """Tasks queued on the pipeline's queues (a task taken by a worker is no longer here)."""
        prefix = self._settings.celery_queue_prefix
        client = redis.Redis.from_url(self._settings.require_redis_url(), socket_timeout=5)
        try:
            # Each queue is a list, plus one list per priority step named after it.
            keys = [
                key
                for name in PIPELINE_QUEUES
                for key in client.scan_iter(match=f"{queue_name(prefix, name)}*", _type="list")
            ]
            return sum(int(client.llen(key)) for key in keys)
        finally:
            client.close()

    def charges(self) -> list[Charge]:
        """Succeeded charges in the gateway's ledger, with what was refunded of each."""
        response = requests.get(f"{self._sandbox}/_sandbox/ledger", timeout=10)
        response.raise_for_status()
        charges = []
        for entry in response.json():
            # A later part's charge carries "<order id>/part-<n>" (models/domain/payments.py).
            reference = str((entry.get("metadata") or {}).get("order_id", ""))
            order_id, _, part = reference.partition("/part-")
            charges.append(
                Charge(
                    order_id=order_id,
                    amount=int(entry["amount"]),
                    refunded=int(entry.get("refunded", 0)),
                    part=int(part) if part.isdigit() else 1,
                )
            )
        return charges

    def snapshot(self, client_pending: int) -> Snapshot:
        """One look at everything that says whether the system is at rest."""
        statuses = {order.order_id: order.status for order in self.orders()}
        return Snapshot(
            statuses=statuses,
            charges=tuple(self.charges()),
            pending_rows=self.pending_rows(),
            mails=self._sink.count(),
            client_pending=client_pending,
        )

    def mails(self, orders: list[OrderRow]) -> list[MailRow]:
        """Received mails about orders, each with its order and kind."""
        reader = MailReader(SUBJECTS, orders)
        read = (reader.read(m.subject, m.recipients, m.message_id) for m in self._sink.mails())
        return [mail for mail in read if mail is not None]

    def follow_ups_given_up(self) -> int:
        """Follow-ups the system gave up for good (each one told operations)."""
        found = self.rows("SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL")
        return int(found[0][0]) if found else 0

    def webhooks_owed(self) -> tuple[tuple[str, str], ...]:
        """(order, kind) of every timeline entry the shop is to hear of, oldest first."""
        found = self.rows(
            "SELECT order_id::text, kind FROM order_event"  # noqa: S608 - constant kinds
            f" WHERE kind IN ({HOOKED_KINDS}) ORDER BY id"
        )
        return tuple((str(order), str(kind)) for order, kind in found or [])

    def webhook_deliveries(self) -> dict[str, int]:
        """Deliveries by status, and the subscriptions that ended up disabled."""
        found = self.rows("SELECT status, count(*) FROM webhook_delivery GROUP BY status") or []
        disabled = self.rows("SELECT count(*) FROM webhook_subscription WHERE NOT active")
        counts = {str(status): int(n) for status, n in sorted(found)}
        return counts | {"subscriptions disabled": int(disabled[0][0]) if disabled else 0}

    def dead_letters(self) -> int:
        """Messages in the dead-letter queue, visible or not."""
        sqs = sqs_client(self._settings, timeout=10)
        url = sqs.get_queue_url(QueueName=self._settings.orders_dlq)["QueueUrl"]
        names: list[QueueAttributeFilterType] = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
        ]
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        visible = int(counts.get("ApproximateNumberOfMessages", "0"))
        return visible + int(counts.get("ApproximateNumberOfMessagesNotVisible", "0"))
