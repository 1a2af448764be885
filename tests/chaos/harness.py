"""One chaos run: start the system, send the traffic, inject the faults, wait for rest, judge."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intake.auth import issue_admin_token
from tests.chaos import catalogue
from tests.chaos.clients import Clients
from tests.chaos.facts import Facts, KeyUse
from tests.chaos.faults import FaultRunner
from tests.chaos.followups import FollowUps
from tests.chaos.hook_counts import duplicates, lost_by_kind
from tests.chaos.hooksink import HookSink, subscribe
from tests.chaos.observe import Observer
from tests.chaos.plan import Plan, make_plan
from tests.chaos.processes import Watchman
from tests.chaos.rest import Rest, telling, wait_for_rest
from tests.chaos.scorecard import Scorecard, judge
from tests.chaos.stack import Stack, running_stack

# Past the last planned order, for clients still retrying under their keys.
PLACING_GRACE = 60.0
# Past the last fault's planned end, for a restart that is slow to come back.
FAULTS_GRACE = 30.0
JOIN_SECONDS = 10.0


@dataclass(frozen=True)
class Options:
    """What the command line chose."""

    seed: int
    orders: int
    rate: float
    recovery_deadline: float
    logs: Path


@dataclass(frozen=True)
class Outcome:
    """The scorecard, and the details behind it for the JSON report."""

    card: Scorecard
    details: dict[str, Any]


def say(text: str) -> None:
    """Progress, one line at a time."""
    print(f"chaos: {text}", flush=True)


def run(options: Options) -> Outcome:
    """Carry out one run and judge it; every process started is stopped again."""
    plan = make_plan(options.seed, options.orders, options.rate)
    say(f"seed {plan.seed}: {len(plan.orders)} orders over {plan.placing_seconds:.0f} s,")
    say(f"  {len(plan.faults)} faults, the last over at {plan.last_fault_end:.0f} s")
    began = time.monotonic()
    with running_stack(plan.seed, options.logs) as stack:
        token = issue_admin_token(stack.settings, "chaos-harness", minutes=120)
        seeded = catalogue.set_up(stack.api, token)
        hooks = HookSink(plan.seed, stack.settings.webhook_timeout_seconds)
        hooks.start()
        subscribe(stack.api, token, hooks.url)
        stack.start_pipeline()
        say(f"system up in {time.monotonic() - began:.0f} s; logs in {options.logs}")
        try:
            return _drive(plan, options, stack, token, seeded, hooks)
        finally:
            say("stopping everything ...")
            hooks.stop()


def _drive(
    plan: Plan,
    options: Options,
    stack: Stack,
    token: str,
    seeded: dict[tuple[str, str], int],
    hooks: HookSink,
) -> Outcome:
    started = time.monotonic()
    watchman = Watchman(list(stack.procs.values()), started)
    watchman.start()
    clients = Clients(stack.api, plan, started)
    faults = FaultRunner(plan, stack, clients, started)
    secret = stack.settings.carrier_webhook_secret.get_secret_value()
    follow = FollowUps(stack.api, token, secret, faults.payment_trouble, faults.trouble_over)
    clients.on_accepted.append(follow.register)
    threads = _start_threads(clients, faults, follow)
    observer = Observer(stack.settings, stack.sandbox, stack.sink)
    try:
        since = _stop_placing_and_faults(plan, started, threads, clients, faults)
        say(f"placing done, faults over at {since - started:.0f} s: waiting for rest ...")
        look = telling(lambda: observer.snapshot(follow.pending()), since, say)
        rest = wait_for_rest(look, since, since + options.recovery_deadline)
        follow.stopping.set()
        threads["follow"].join(JOIN_SECONDS)
        facts = _facts(observer, plan, clients, follow, seeded, rest, watchman)
        facts, hook_details = _webhooks(facts, observer, hooks)
        details = _details(plan, clients, follow, faults, watchman, facts) | hook_details
        details["tasks_unacknowledged_at_end"] = observer.broker_unacknowledged()
        return Outcome(judge(facts), details)
    finally:
        for stopping in (clients.stopping, faults.stopping, follow.stopping):
            stopping.set()
        watchman.stop()
        observer.close()


def _webhooks(facts: Facts, observer: Observer, hooks: HookSink) -> tuple[Facts, dict[str, Any]]:
    """The facts with what the shop was owed and acknowledged; the details behind them."""
    acks, answers = hooks.snapshot()
    owed = observer.webhooks_owed()
    details = {
        "webhook_receiver_answers": answers,
        "webhook_duplicates": duplicates(acks),
        "webhook_lost_by_kind": lost_by_kind(owed, acks),
        "webhook_deliveries": observer.webhook_deliveries(),
    }
    return dataclasses.replace(facts, webhooks_owed=owed, webhook_acks=tuple(acks)), details


def _start_threads(
    clients: Clients, faults: FaultRunner, follow: FollowUps
) -> dict[str, threading.Thread]:
    """The clients, the faults and the follow-ups, each running on a thread of its own."""
    threads = {
        name: threading.Thread(target=work, name=name, daemon=True)
        for name, work in (("clients", clients.run), ("faults", faults.run), ("follow", follow.run))
    }
    for thread in threads.values():
        thread.start()
    return threads


def _stop_placing_and_faults(
    plan: Plan,
    started: float,
    threads: dict[str, threading.Thread],
    clients: Clients,
    faults: FaultRunner,
) -> float:
    """Give placing and the faults their planned time and grace, stop both; when faults ended."""
    threads["clients"].join(plan.placing_seconds + PLACING_GRACE)
    threads["faults"].join(
        max(0.0, started + plan.last_fault_end + FAULTS_GRACE - time.monotonic())
    )
    clients.stopping.set()
    faults.stopping.set()
    threads["faults"].join(JOIN_SECONDS)
    return faults.ended_at or time.monotonic()


def _facts(
    observer: Observer,
    plan: Plan,
    clients: Clients,
    follow: FollowUps,
    seeded: dict[tuple[str, str], int],
    rest: Rest,
    watchman: Watchman,
) -> Facts:
    orders = observer.orders()
    keys = tuple(
        KeyUse(p.planned.key, str(p.planned.body["customer"]["email"]), frozenset(p.order_ids))
        for p in clients.placed.values()
    )
    return Facts(
        seed=plan.seed,
        orders=tuple(orders),
        lines=tuple(observer.lines()),
        stock=tuple(observer.stock()),
        seeded=seeded,
        charges=tuple(observer.charges()),
        mails=tuple(observer.mails(orders)),
        keys=keys,
        delivered_by_carrier=frozenset(follow.delivered_by_carrier),
        refunded_in_db=observer.refunded_in_db(),
        dead_letters=observer.dead_letters(),
        follow_ups_given_up=observer.follow_ups_given_up(),
        mail_senders_killed=plan.mail_senders_killed,
        recovery_seconds=rest.seconds,
        unsettled=rest.unsettled,
        crashes=tuple(crash.name for crash in watchman.crashes()),
    )


def _details(
    plan: Plan,
    clients: Clients,
    follow: FollowUps,
    faults: FaultRunner,
    watchman: Watchman,
    facts: Facts,
) -> dict[str, Any]:
    answers: Counter[int] = Counter()
    for placed in clients.placed.values():
        answers.update(placed.answers)
    return {
        "plan": {
            "orders": len(plan.orders),
            "placing_seconds": round(plan.placing_seconds, 1),
            "mix": Counter(o.mix for o in plan.orders),
            "duplicates": Counter(o.duplicate for o in plan.orders),
            "cancels": Counter(o.cancel for o in plan.orders),
            "deliveries": sum(o.deliver for o in plan.orders),
        },
        "not_accepted": sum(not p.order_ids for p in clients.placed.values()),
        "intake_answers": {str(code): n for code, n in sorted(answers.items())},
        "cancel_answers": {str(code): n for code, n in sorted(follow.cancel_answers.items())},
        "webhook_answers": {str(code): n for code, n in sorted(follow.webhook_answers.items())},
        "follow_ups": dict(sorted(follow.outcomes().items())),
        "faults": [dataclasses.asdict(happened) for happened in faults.log],
        "crashes": [dataclasses.asdict(crash) for crash in watchman.crashes()],
        "mails_about_orders": len(facts.mails),
        "ledger_charges": len(facts.charges),
    }
