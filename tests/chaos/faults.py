"""The fault schedule carried out: kills, restarts, outages, duplicate messages, gateway trouble."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests

from models.domain.clock import utcnow
from models.domain.messages import OrderPlaced
from tests.chaos.clients import Clients
from tests.chaos.plan import PAYMENT_FAULTS, Fault, Plan
from tests.chaos.processes import busiest_child
from tests.chaos.stack import WORKER_READY, Stack
from workers.adapters.sqs import sqs_client

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

DUPLICATES_PER_BURST = 15
TIMEOUT_AFTER_CHARGE_RATE = 0.5
# Past the workers' PAYMENT_TIMEOUT (3 s in a chaos run): the charge lands, its answer does not.
STALL_SECONDS = 4.0
FAILURE_RATE = 0.6
# How long a pool-child kill waits for a restarted worker to consume again.
READY_PATIENCE = 30.0


@dataclass(frozen=True)
class Happened:
    """One thing the harness did, `at` seconds into the run."""

    at: float
    what: str


class FaultRunner:
    """Carries out the plan's faults at their times, and undoes each when its time is up."""

    def __init__(self, plan: Plan, stack: Stack, clients: Clients, started: float) -> None:
        """Faults for `stack`, timed from `started` (monotonic)."""
        self._plan, self._stack, self._clients, self._started = plan, stack, clients, started
        self._rng = random.Random(plan.seed ^ 0x5EED)
        self._active: set[Fault] = set()
        self._lock = threading.Lock()
        self.log: list[Happened] = []
        self.payment_trouble = threading.Event()
        self.trouble_over = threading.Event()
        self.stopping = threading.Event()
        self.ended_at: float | None = None
        self._starts: dict[str, Callable[[], str]] = {
            "kill_pool_child": self._kill_pool_child,
            "kill_worker": lambda: self._kill("worker"),
            "kill_payments_worker": lambda: self._kill("payments"),
            "kill_dispatcher": lambda: self._kill("dispatcher"),
            "restart_redis": self._kill_redis,
            "duplicate_sqs": self._duplicate_sqs,
            "payment_timeouts": self._payment_timeouts,
            "payment_5xx": self._payment_5xx,
            "smtp_outage": self._smtp_down,
        }
        self._ends: dict[str, Callable[[], str]] = {
            "kill_worker": lambda: self._restart("worker"),
            "kill_payments_worker": lambda: self._restart("payments"),
            "kill_dispatcher": lambda: self._restart("dispatcher"),
            "restart_redis": self._start_redis,
            "payment_timeouts": self._payment_timeouts_over,
            "payment_5xx": self._payment_5xx_over,
            "smtp_outage": self._smtp_up,
        }

    def run(self) -> None:
        """Start and end every fault on schedule; whatever happens, end every one of them."""
        events = sorted(
            [(f.at, 0, f, True) for f in self._plan.faults]
            + [(f.end, 1, f, False) for f in self._plan.faults if f.duration > 0],
            key=lambda event: (event[0], event[1]),
        )
        blows: list[threading.Thread] = []
        try:
            for at, _order, fault, starting in events:
                if self.stopping.wait(max(0.0, self._started + at - time.monotonic())):
                    return
                if starting and fault.duration == 0:
                    # A single blow may wait for its target; the schedule does not wait for it.
                    blows.append(threading.Thread(target=self._begin, args=(fault,), daemon=True))
                    blows[-1].start()
                elif starting:
                    self._begin(fault)
                else:
                    self._end(fault)
        finally:
            for blow in blows:
                blow.join(READY_PATIENCE + 10.0)
            self.heal()
            self.ended_at = time.monotonic()

    def heal(self) -> None:
        """End every fault still in force (after an interruption, say)."""
        with self._lock:
            active = sorted(self._active, key=lambda fault: fault.at)
        for fault in active:
            self._end(fault)
        self.trouble_over.set()

    def _say(self, what: str) -> None:
        happened = Happened(round(time.monotonic() - self._started, 1), what)
        self.log.append(happened)
        print(f"chaos: {happened.at:6.1f} s  {what}", flush=True)

    def _begin(self, fault: Fault) -> None:
        with self._lock:
            self._active.add(fault)
        try:
            self._say(self._starts[fault.kind]())
        except Exception as error:  # a fault that cannot be injected is reported, not fatal
            self._say(f"{fault.kind}: could not inject: {error}")
        if fault.duration == 0:
            with self._lock:
                self._active.discard(fault)

    def _end(self, fault: Fault) -> None:
        with self._lock:
            if fault not in self._active:
                return
            self._active.discard(fault)
            still_paying = any(f.kind in PAYMENT_FAULTS for f in self._active)
        try:
            self._say(self._ends[fault.kind]())
        except Exception as error:  # keep healing the rest; the scorecard shows the damage
            self._say(f"{fault.kind}: could not end: {error}")
        if fault.kind in PAYMENT_FAULTS and not still_paying:
            self.payment_trouble.clear()
            if not any(f.kind in PAYMENT_FAULTS and f.at > fault.at for f in self._plan.faults):
                self.trouble_over.set()

    def _kill_pool_child(self) -> str:
        worker = self._stack.procs["worker"]
        # Before it consumes, a worker that loses a child exits ("Could not start worker
        # processes"): that would be the harness's doing, and no task would be interrupted.
        deadline = time.monotonic() + READY_PATIENCE
        while not worker.logged_since_start(WORKER_READY) and time.monotonic() < deadline:
            if self.stopping.wait(0.5):
                return "kill a pool child: stopped while waiting"
        if not worker.logged_since_start(WORKER_READY):
            return "kill a pool child: the worker is still starting"
        child = busiest_child(worker.pid) if worker.pid is not None else None
        if child is None:
            return "kill a pool child: none running"
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
        return f"SIGKILLed the busiest prefork pool child (pid {child})"

    def _kill(self, name: str) -> str:
        self._stack.procs[name].kill()
        return f"SIGKILLed the {name} process group"

    def _restart(self, name: str) -> str:
        self._stack.procs[name].start()
        return f"restarted the {name}"

    def _kill_redis(self) -> str:
        self._stack.redis.kill()
        return "SIGKILLed Redis (no persistence: every queued task is gone)"

    def _start_redis(self) -> str:
        self._stack.redis.start()
        return f"started an empty Redis on port {self._stack.redis.port}"

    def _duplicate_sqs(self) -> str:
        accepted = [str(p.order_id) for p in self._clients.accepted()]
        chosen = self._rng.sample(accepted, min(DUPLICATES_PER_BURST, len(accepted)))
        sqs = sqs_client(self._stack.settings, timeout=10)
        url = sqs.get_queue_url(QueueName=self._stack.settings.orders_queue)["QueueUrl"]
        # A third go twice in one batch, so the dispatcher meets copies side by side.
        copies = chosen + chosen[: len(chosen) // 3]
        documents = [OrderPlaced(uuid.UUID(order_id), utcnow()).to_json() for order_id in copies]
        for start in range(0, len(documents), 10):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(i), "MessageBody": json.dumps(document)}
                for i, document in enumerate(documents[start : start + 10])
            ]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        return f"sent {len(documents)} copies of order.placed for {len(chosen)} accepted orders"

    def _sandbox(self, **faults: float) -> None:
        response = requests.post(f"{self._stack.sandbox}/_sandbox/faults", json=faults, timeout=5)
        response.raise_for_status()

    def _payment_timeouts(self) -> str:
        self._sandbox(
            timeout_after_charge_rate=TIMEOUT_AFTER_CHARGE_RATE, stall_seconds=STALL_SECONDS
        )
        self.payment_trouble.set()
        return f"gateway: {TIMEOUT_AFTER_CHARGE_RATE:.0%} of charges time out after charging"

    def _payment_5xx(self) -> str:
        self._sandbox(failure_rate=FAILURE_RATE)
        self.payment_trouble.set()
        return f"gateway: {FAILURE_RATE:.0%} of requests answer 500"

    def _payment_timeouts_over(self) -> str:
        self._sandbox(timeout_after_charge_rate=0.0)
        return "gateway: charges answer in time again"

    def _payment_5xx_over(self) -> str:
        self._sandbox(failure_rate=0.0)
        return "gateway: no more 500s"

    def _smtp_down(self) -> str:
        self._stack.sink.stop()
        return "SMTP server stopped"

    def _smtp_up(self) -> str:
        self._stack.sink.start()
        return "SMTP server started again"
