"""What `make run` keeps between runs, and how `make demo` finds the stack it started."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from devstack.datadir import DataDir, count_mails, prepare
from devstack.state import StackState, demo_target, read_state, remove_state, write_state

API = "http://127.0.0.1:41234"


def kept_data(root: Path) -> DataDir:
    """A data folder as a run leaves it: PostgreSQL's data and two mails."""
    data = DataDir(root)
    (data.postgres / "base").mkdir(parents=True)
    (data.postgres / "PG_VERSION").write_text("16\n")
    for sub in ("new", "cur", "tmp"):
        (data.mail / sub).mkdir(parents=True)
    (data.mail / "new" / "1.mail").write_text("Subject: received\n\n")
    (data.mail / "cur" / "2.mail:2,S").write_text("Subject: shipped\n\n")
    data.since.write_text("2026-11-30 09:15 UTC\n")
    return data


def _reaped_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_restart_keeps_the_orders_and_the_mails_together(tmp_path: Path) -> None:
    data = kept_data(tmp_path / "stack")

    since = prepare(data, fresh=False)

    assert since == datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    assert (data.postgres / "PG_VERSION").exists()
    assert count_mails(data.mail) == 2


def test_a_fresh_start_clears_the_orders_and_the_mails_together(tmp_path: Path) -> None:
    data = kept_data(tmp_path / "stack")

    since = prepare(data, fresh=True)

    assert since is None
    assert not data.postgres.exists()
    assert count_mails(data.mail) == 0
    assert prepare(data, fresh=False) is None


def test_mails_alone_still_count_as_kept_data(tmp_path: Path) -> None:
    data = kept_data(tmp_path / "stack")
    (data.postgres / "PG_VERSION").unlink()
    assert prepare(data, fresh=False) is not None


def test_the_demo_targets_the_api_the_running_stack_recorded(tmp_path: Path) -> None:
    write_state(tmp_path, StackState(os.getpid(), API, "http://127.0.0.1:5555", "now"))

    target, why = demo_target(None, tmp_path)

    assert target == API
    assert f"pid {os.getpid()}" in why


def test_an_api_given_explicitly_wins_over_the_recorded_one(tmp_path: Path) -> None:
    write_state(tmp_path, StackState(os.getpid(), API, "http://127.0.0.1:5555", "now"))
    assert demo_target("http://10.0.0.5:8000/", tmp_path)[0] == "http://10.0.0.5:8000"


def test_with_no_stack_running_the_demo_says_how_to_start_one(tmp_path: Path) -> None:
    target, why = demo_target(None, tmp_path)
    assert target is None
    assert "no stack is running" in why
    assert "make run" in why
    assert "API=" in why


def test_a_stack_that_ended_without_cleaning_up_is_not_a_target(tmp_path: Path) -> None:
    write_state(tmp_path, StackState(_reaped_pid(), API, "http://127.0.0.1:5555", "now"))

    target, why = demo_target(None, tmp_path)

    assert target is None
    assert "has ended" in why


def test_a_runner_forgets_only_the_stack_it_recorded_itself(tmp_path: Path) -> None:
    write_state(tmp_path, StackState(os.getpid(), API, "http://127.0.0.1:5555", "now"))
    remove_state(tmp_path, os.getpid() + 1)
    assert read_state(tmp_path) is not None
    remove_state(tmp_path, os.getpid())
    assert read_state(tmp_path) is None
