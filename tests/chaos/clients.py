"""The shop's side: concurrent clients placing the planned orders, some twice, through HTTP."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.chaos.plan import CONCURRENT_COPIES, Plan, PlannedOrder

CLIENT_THREADS = 12
POST_ATTEMPTS = 8
REQUEST_TIMEOUT = 10.0
# Answers a client retries under the same key: in flight (409), overloaded or down (5xx).
RETRIED = frozenset({409, 429, 500, 502, 503, 504})
NO_ANSWER = 0


@dataclass
class Placed:
    """What the intake answered for one planned order, under its one Idempotency-Key."""

    planned: PlannedOrder
    order_ids: set[str] = field(default_factory=set)
    answers: Counter[int] = field(default_factory=Counter)
    token: str | None = None
    status_url: str | None = None
    accepted_at: float | None = None

    @property
    def order_id(self) -> str | None:
        """The order the key made (the first, if a faulty intake made more)."""
        return min(self.order_ids) if self.order_ids else None


class Clients:
    """Places every planned order at its time; hands accepted ones to `on_accepted`."""

    def __init__(self, api: str, plan: Plan, started: float) -> None:
        """Clients for the intake at `api`; plan times count from `started` (monotonic)."""
        self._api, self._plan, self._started = api, plan, started
        self._lock = threading.Lock()
        self._local = threading.local()
        self.placed = {o.key: Placed(o) for o in plan.orders}
        self.stopping = threading.Event()
        self.on_accepted: list[Callable[[Placed], None]] = []

    def run(self) -> None:
        """Place every order, each at its planned moment, from concurrent threads."""
        with ThreadPoolExecutor(CLIENT_THREADS, thread_name_prefix="client") as pool:
            for _ in pool.map(self._place, self._plan.orders):
                pass

    def accepted(self) -> list[Placed]:
        """Orders the intake accepted so far."""
        with self._lock:
            return [p for p in self.placed.values() if p.order_ids]

    def _place(self, planned: PlannedOrder) -> None:
        delay = self._started + planned.at - time.monotonic()
        if delay > 0 and self.stopping.wait(delay):
            return
        record = self.placed[planned.key]
        if planned.duplicate == "concurrent":
            barrier = threading.Barrier(CONCURRENT_COPIES)
            copies = [
                threading.Thread(target=self._post_until_answered, args=(record, barrier))
                for _ in range(CONCURRENT_COPIES)
            ]
            for copy in copies:
                copy.start()
            for copy in copies:
                copy.join()
        else:
            self._post_until_answered(record, None)
        if planned.duplicate == "sequential":
            self._post_until_answered(record, None)
        if record.order_ids:
            for callback in self.on_accepted:
                callback(record)

    def _post_until_answered(self, record: Placed, barrier: threading.Barrier | None) -> None:
        """POST under the order's key until the intake answers for good."""
        if barrier is not None:
            barrier.wait(timeout=REQUEST_TIMEOUT)
        for attempt in range(POST_ATTEMPTS):
            status, body = self._post(record.planned)
            with self._lock:
                record.answers[status] += 1
                if 200 <= status < 300 and body is not None:
                    self._accept(record, body)
            if status != NO_ANSWER and status not in RETRIED:
                return
            if self.stopping.wait(min(2.0, 0.25 * 2**attempt)):
                return

    def _accept(self, record: Placed, body: dict[str, Any]) -> None:
        record.order_ids.add(str(body["order_id"]))
        if record.token is None:
            record.token, record.status_url = str(body["order_token"]), str(body["status_url"])
            record.accepted_at = time.monotonic()

    def _post(self, planned: PlannedOrder) -> tuple[int, dict[str, Any] | None]:
        try:
            response = self._session().post(
                f"{self._api}/orders",
                json=planned.body,
                headers={"Idempotency-Key": f'"{planned.key}"'},
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException:
            return NO_ANSWER, None
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body if isinstance(body, dict) else None

    def _session(self) -> requests.Session:
        # One session per thread: a Session is not documented as safe to share.
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        session: requests.Session = self._local.session
        return session
