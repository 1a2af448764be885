"""`make run` end to end: the start table, stack.json for `make demo`, DEMO=1, a restart."""

from __future__ import annotations

import re
import shutil

from devstack.banner import RULE
from devstack.datadir import count_mails, count_orders
from devstack.demo_after import CANCELS
from devstack.demo_holds import HOLDS, RELEASES
from devstack.state import demo_target, read_state
from tests.integration.demo_holds_support import assert_holds_reviewed
from tests.integration.runner_support import (
    RunningStack,
    devstack_runner,
    eventually,
    open_folder,
    read_proc,
)

# Every component the start table lists under `make run` on embedded services.
COMPONENTS = {
    "API": "app",
    "API docs": "app",
    "metrics": "app",
    "Flower": "app",
    "dispatcher": "app",
    "worker": "app",
    "payments": "app",
    "beat": "app",
    "PostgreSQL": "embedded",
    "Redis": "embedded",
    "SQS": "embedded",
    "SMTP": "embedded",
    "mailbox": "embedded",
    "payment sandbox": "embedded",
    "webhooks": "embedded",
}
DEMO_ORDERS = 12
DEMO_SECONDS = 150.0
HINT = "Ctrl-C stops everything."


def test_make_run_lists_what_runs_where_and_a_restart_keeps_orders_and_mails_together() -> None:
    data = open_folder("devstack-data-")
    try:
        with devstack_runner(["--demo", "--demo-orders", str(DEMO_ORDERS)], data) as (stack, api):
            assert_every_component_listed(stack, api)
            assert "fresh start: no orders, no mails" in stack.output()
            assert demo_target(None, data)[0] == api
            result = eventually(lambda: demo_result(stack), DEMO_SECONDS, "the demo's result")
            database = stack.start_table()["PostgreSQL"].address
            orders = count_orders(database)
            # Held for the card's country (`make run` turns the rule on), released or cancelled.
            assert_holds_reviewed(database, data)
        shown = "\n".join(result)
        assert f"{DEMO_ORDERS} orders in" in shown
        # After checkout: fresh orders lost a line, shipped ones came back and were refunded.
        assert re.search(rf"line cancelled\s*[|│]\s*{CANCELS}\b", shown), shown
        assert re.search(r"returned and refunded\s*[|│]\s*[1-9]", shown), shown
        assert re.search(rf"held, released and shipped\s*[|│]\s*{RELEASES}\b", shown), shown
        assert re.search(rf"held and cancelled\s*[|│]\s*{HOLDS - RELEASES}\b", shown), shown
        assert read_state(data) is None
        mails = count_mails(data / "mail")
        assert orders == DEMO_ORDERS + CANCELS + HOLDS
        assert mails >= orders

        with devstack_runner((), data) as (again, _api):
            assert f": {orders} orders, {mails} mails in {data}" in again.output()
            assert "data kept from " in again.output()
            assert count_orders(again.start_table()["PostgreSQL"].address) == orders
    finally:
        shutil.rmtree(data, ignore_errors=True)


def assert_every_component_listed(stack: RunningStack, api: str) -> None:
    """Each component is in the start table with its address or its live process."""
    table = stack.start_table()
    assert {name: row.runs for name, row in table.items()} == COMPONENTS
    assert table["API"].address == api
    assert table["API docs"].address == f"{api}/docs/"
    assert table["metrics"].address == f"{api}/metrics"
    assert "login admin / fulfillment" in table["Flower"].notes
    assert "allocation" in table["worker"].notes
    assert table["PostgreSQL"].address.startswith("postgresql://postgres@127.0.0.1:")
    assert table["mailbox"].address == str(stack.data / "mail")
    below = {proc.pid for proc in stack.tree()}
    for row in table.values():
        assert row.address or row.pid, row
        if row.pid is not None:
            assert row.pid in below, row
            assert read_proc(row.pid) is not None, row


def demo_result(stack: RunningStack) -> list[str] | None:
    """The demo's result block, checked to be whole and printed last, once it is there."""
    lines = list(stack.lines)
    if "Demo result:" not in lines or HINT not in lines[lines.index("Demo result:") :]:
        return None
    start = lines.index("Demo result:")
    end = start + lines[start:].index(HINT)
    if end + 1 >= len(lines):
        return None
    # The start table came first and did not end with the hint: the result does.
    assert lines.index("Fulfillment is running.") < start
    assert lines.count(HINT) == 1
    assert lines[start - 1] == RULE
    assert lines[end + 1] == RULE
    # Printed in one piece: no process's line inside it, none from the demo after it.
    assert [line for line in lines[start:end] if " | " in line] == []
    assert [line for line in lines[end:] if line.startswith("demo ")] == []
    return lines[start:end]
