"""Run the whole system locally with one command: `python -m devstack.run [--demo] [--fresh]`."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from devstack.banner import RULE, banner
from devstack.children import Child, say, wait_for_quiet
from devstack.commands import app_commands, flower_environment, python_module
from devstack.datadir import DataDir, count_mails, count_orders, data_dir, restart_note
from devstack.embedded import Started, start_embedded, use_configured
from devstack.services import http_ok
from devstack.state import StackState, remove_state, running_stack, write_state
from devstack.supervisor import Supervisor, how_it_ended, watch
from devstack.webhook_subscription import subscribe_receiver
from devstack.where import Layout, component_rows
from settings import Settings, child_environment, get_settings

SETUP_STEPS = {
    "migrate": "models.tables.migrate",
    "queues": "workers.create_queues",
    "seed": "devstack.seed",
}
READY_TIMEOUT = 90.0
# Before the demo's table: how long the children must have been silent, and the most to wait.
QUIET_SECONDS, QUIET_AT_MOST = 1.5, 10.0
# `make demo` places 300 orders from this machine's one address within seconds.
LOCAL_ORDER_CREATION_LIMIT = "1200/minute"


@dataclass
class Stack:
    """Everything the runner started, stopped in reverse order: children, then services."""

    started: Started = field(default_factory=Started)
    children: list[Child] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)
    # Where this run recorded itself (stack.json), forgotten again at the stop.
    recorded_in: Path | None = None

    def stop(self) -> None:
        """Stop every child and service this run started; safe to call twice."""
        if self.recorded_in is not None:
            remove_state(self.recorded_in, os.getpid())
            self.recorded_in = None
        while self.children:
            self.children.pop().stop()
        while self.started.services:
            self.started.services.pop().stop()
        while self.folders:
            shutil.rmtree(self.folders.pop(), ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Start the stack, keep it up until Ctrl-C or SIGTERM, stop it; 1 if it could not go on."""
    args = _arguments(argv)
    stopping = threading.Event()
    _stop_on_signals(stopping)
    stack = Stack()
    try:
        return _run(args, get_settings(), stack, stopping)
    except (RuntimeError, TimeoutError) as error:
        say(f"devstack: {error}")
        return 1
    finally:
        say("devstack: stopping everything ...")
        stack.stop()
        say("devstack: stopped.")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo", action="store_true", help="place demo orders once ready")
    parser.add_argument("--demo-orders", type=int, default=300, help="how many, with --demo")
    parser.add_argument(
        "--fresh", action="store_true", help="clear the orders and mails the last run kept"
    )
    parser.add_argument(
        "--use-configured",
        action="store_true",
        help="use the database, Redis, SQS, SMTP and payment API from the settings",
    )
    return parser.parse_args(argv)


def _stop_on_signals(stopping: threading.Event) -> None:
    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)


def _run(
    args: argparse.Namespace, settings: Settings, stack: Stack, stopping: threading.Event
) -> int:
    data = data_dir(settings)
    _refuse_a_second_stack(data)
    if args.use_configured:
        overrides, since = use_configured(settings), None
    else:
        overrides, since = start_embedded(settings, stack.started, data, args.fresh)
    overrides |= {"pythonunbuffered": "1"} | _local_limits(settings) | _local_policy(settings)
    for name, module in SETUP_STEPS.items():
        if not _setup_step(name, module, child_environment(overrides), stopping):
            return 0 if stopping.is_set() else 1
    subscribe_receiver(stack.started, overrides.get("database_url") or settings.database_url)
    # Chosen just before they bind: a port found free earlier may be taken by now.
    ports = (stack.started.port("intake"), stack.started.port("flower"))
    api, flower = (f"http://127.0.0.1:{port}" for port in ports)
    overrides["public_base_url"] = api
    env = child_environment(overrides)
    runtime = Path(tempfile.mkdtemp(prefix="devstack-run-"))
    stack.folders.append(runtime)
    # One host: every process records under one folder, and the intake's /metrics shows it all.
    env.setdefault("METRICS_DIR", str(runtime / "metrics"))
    apps = _start_apps(stack, env, ports, runtime, settings)
    long_running = list(stack.children)
    if not _wait_until_ready(f"{api}/healthz", long_running, stopping):
        return 0 if stopping.is_set() else 1
    layout = Layout(settings, overrides, stack.started, apps, api, flower, data)
    note = _data_note(since, overrides.get("database_url") or settings.database_url, layout)
    _record(stack, data, api, flower)
    say(banner(component_rows(layout), note, api, args.demo))
    shown = _start_demo(stack, env, api, args.demo_orders, runtime) if args.demo else None
    return watch(Supervisor(long_running, stack.started.services), stack.children, stopping, shown)


def _local_limits(settings: Settings) -> dict[str, str]:
    """An order-creation limit the demo fits under, unless the environment sets one."""
    if "rate_limit_order_creation" in settings.model_fields_set:
        return {}
    return {"rate_limit_order_creation": LOCAL_ORDER_CREATION_LIMIT}


def _local_policy(settings: Settings) -> dict[str, str]:
    """Partial fulfilment, unless the environment sets a shortage policy: the demo's orders
    that want more of an article than any stock holds then ship their other lines. And the
    country hold rule, unless the environment sets it: the demo's orders paid with a card
    from another country are held for review, for staff to release or cancel."""
    policy: dict[str, str] = {}
    if "shortage_policy" not in settings.model_fields_set:
        policy["shortage_policy"] = "ship_available"
    if "hold_country_mismatch" not in settings.model_fields_set:
        policy["hold_country_mismatch"] = "true"
    return policy


def _refuse_a_second_stack(data: DataDir) -> None:
    """Two runners on one data folder would fight over PostgreSQL's data and stack.json."""
    other = running_stack(data.root)
    if other is not None and other.pid != os.getpid():
        raise RuntimeError(
            f"a stack already runs from {data.shown()} (pid {other.pid}, API {other.api}):"
            " stop it first, or give this one another DEVSTACK_DATA_DIR"
        )


def _start_apps(
    stack: Stack, env: dict[str, str], ports: tuple[int, int], runtime: Path, settings: Settings
) -> dict[str, Child]:
    """Intake, dispatcher, workers, beat and Flower, by name."""
    apps: dict[str, Child] = {}
    for name, argv in app_commands(*ports, runtime, settings).items():
        child_env = flower_environment(env, settings) if name == "flower" else env
        apps[name] = Child(name, argv, child_env)
        stack.children.append(apps[name])
    return apps


def _data_note(since: datetime | None, database_url: str | None, layout: Layout) -> str:
    """Whether this run goes on with the last one's orders and mails, or starts without."""
    if layout.started.not_kept:
        return f"fresh start: {layout.started.not_kept}, so neither orders nor mails are kept"
    if layout.started.service("smtp") is None or database_url is None:
        return "using the configured services: `make run` keeps no data of its own"
    mails = count_mails(layout.data.mail)
    if layout.started.service("postgres") is None:
        orders = count_orders(database_url)
        return (
            f"the mailbox in {layout.data.shown()} holds {mails} mails (FRESH=1 empties it);"
            f" PostgreSQL is DATABASE_URL's own, with {orders} orders"
        )
    return restart_note(since, count_orders(database_url), mails, layout.data)


def _record(stack: Stack, data: DataDir, api: str, flower: str) -> None:
    """Write stack.json, so `make demo` finds this stack's API on whatever port it got."""
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    write_state(data.root, StackState(os.getpid(), api, flower, started_at))
    stack.recorded_in = data.root


def _start_demo(
    stack: Stack, env: dict[str, str], api: str, orders: int, runtime: Path
) -> Callable[[Child, int], None]:
    """Start the demo; what prints its result table, last, once it is done."""
    table = runtime / "demo-table.txt"
    argv = python_module(
        "devstack.demo", "--base-url", api, "--orders", str(orders), "--table-file", str(table)
    )
    stack.children.append(Child("demo", argv, env))

    def show_result(child: Child, code: int) -> None:
        if child.name != "demo":
            return
        # After the last steps' lines, so the table is not scrolled away at once.
        wait_for_quiet(QUIET_SECONDS, QUIET_AT_MOST)
        result = table.read_text().rstrip() if code == 0 and table.exists() else ""
        failed = f"The demo {how_it_ended(code)}; its lines above say why."
        ending = ["", "Ctrl-C stops everything."]
        say("\n".join([RULE, "Demo result:", result or failed, *ending, RULE]))

    return show_result


def _setup_step(name: str, module: str, env: dict[str, str], stopping: threading.Event) -> bool:
    """Run one setup command to completion; False if it failed or a stop was asked for."""
    step = Child(name, python_module(module), env)
    while step.exit_code() is None and not stopping.wait(0.2):
        pass
    step.stop()
    if step.exit_code() != 0 and not stopping.is_set():
        say(f"devstack: {name} failed with exit code {step.exit_code()}")
    return step.exit_code() == 0 and not stopping.is_set()


def _wait_until_ready(health: str, children: list[Child], stopping: threading.Event) -> bool:
    """Wait for the intake to answer; a child dying before that is a broken setup: give up."""
    deadline = time.monotonic() + READY_TIMEOUT
    while not stopping.wait(0.3):
        if _first_exited(children) is not None:
            return False
        if http_ok(health):
            return True
        if time.monotonic() > deadline:
            say(f"devstack: the intake did not answer {health} within {READY_TIMEOUT:.0f} s")
            return False
    return False


def _first_exited(children: list[Child]) -> Child | None:
    for child in children:
        if (code := child.exit_code()) is not None:
            say(f"devstack: {child.name} {how_it_ended(code)} before the stack was ready")
            return child
    return None


if __name__ == "__main__":
    raise SystemExit(main())
