"""The background publisher: callers never wait, rows are batched as they gather, nothing stalls."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence

from models.domain.follow_ups import ORDERS, FollowUp
from workers.adapters.background import BackgroundPublisher


def row(n: int) -> FollowUp:
    return FollowUp(n, ORDERS, {"n": n}, 1, True)


class Gate:
    """A publisher that records each batch, holding the first until the test opens the gate."""

    topics = frozenset({ORDERS})

    def __init__(self, *, fail_first: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.fail_first = fail_first

    def publish(self, follow_ups: Sequence[FollowUp]) -> None:
        self.entered.set()
        self.gate.wait(5)
        self.batches.append([f.id for f in follow_ups])
        if self.fail_first and len(self.batches) == 1:
            raise RuntimeError("a publisher that breaks its promise not to raise")


def test_publish_returns_while_the_send_is_still_under_way() -> None:
    inner = Gate()
    publisher = BackgroundPublisher(inner)

    publisher.publish([row(1)])
    assert inner.entered.wait(5)

    assert inner.batches == []  # the send is held, yet publish has returned
    inner.gate.set()
    assert publisher.flush(5)
    assert inner.batches == [[1]]
    publisher.close()


def test_rows_that_gather_during_a_send_go_out_together_in_batches_of_at_most_the_limit() -> None:
    inner = Gate()
    publisher = BackgroundPublisher(inner, max_batch=4)
    publisher.publish([row(1)])
    assert inner.entered.wait(5)

    publisher.publish([row(n) for n in range(2, 8)])
    inner.gate.set()

    assert publisher.flush(5)
    assert inner.batches == [[1], [2, 3, 4, 5], [6, 7]]
    publisher.close()


def test_rows_committed_moments_apart_wait_for_each_other_to_share_a_call() -> None:
    inner = Gate()
    inner.gate.set()
    publisher = BackgroundPublisher(inner, gather=0.5)

    for n in range(1, 5):
        publisher.publish([row(n)])
        time.sleep(0.02)

    assert publisher.flush(5)
    # The first had none before it to say rows were coming fast: it went out alone.
    assert inner.batches == [[1], [2, 3, 4]]
    publisher.close()


def test_a_row_long_after_the_last_goes_out_without_waiting() -> None:
    inner = Gate()
    inner.gate.set()
    publisher = BackgroundPublisher(inner, gather=0.3)
    publisher.publish([row(1)])
    assert publisher.flush(5)
    time.sleep(0.4)

    publisher.publish([row(2)])

    assert publisher.flush(0.2)  # it would still be gathering had it waited
    assert inner.batches == [[1], [2]]
    publisher.close()


def test_ten_rows_go_out_without_waiting_out_the_gathering() -> None:
    inner = Gate()
    inner.gate.set()
    publisher = BackgroundPublisher(inner, gather=30.0)

    publisher.publish([row(n) for n in range(10)])

    assert publisher.flush(5)
    assert inner.batches == [list(range(10))]
    publisher.close()


def test_rows_queued_past_their_lease_are_left_to_the_relay() -> None:
    inner = Gate()
    publisher = BackgroundPublisher(inner, fresh_for=0.05)
    publisher.publish([row(1)])
    assert inner.entered.wait(5)
    publisher.publish([row(2)])  # waits behind a send that hangs longer than its lease

    time.sleep(0.1)
    inner.gate.set()
    publisher.publish([row(3)])

    assert publisher.flush(5)
    assert inner.batches == [[1], [3]]
    publisher.close()


def test_a_failing_send_does_not_stop_the_thread() -> None:
    inner = Gate(fail_first=True)
    inner.gate.set()
    publisher = BackgroundPublisher(inner)

    publisher.publish([row(1)])
    assert publisher.flush(5)
    publisher.publish([row(2)])

    assert publisher.flush(5)
    assert inner.batches == [[1], [2]]
    publisher.close()


def test_close_sends_what_is_queued_then_stops_the_thread() -> None:
    inner = Gate()
    inner.gate.set()
    publisher = BackgroundPublisher(inner)
    before = set(threading.enumerate())
    publisher.publish([row(n) for n in range(1, 4)])
    [thread] = [t for t in set(threading.enumerate()) - before if t.name == "outbox-publisher"]

    publisher.close()

    assert sorted(n for batch in inner.batches for n in batch) == [1, 2, 3]
    assert not thread.is_alive()


def test_flush_gives_up_at_its_timeout_while_a_send_hangs() -> None:
    inner = Gate()
    publisher = BackgroundPublisher(inner)
    publisher.publish([row(1)])

    assert publisher.flush(0.2) is False
    inner.gate.set()
    publisher.close()


def test_a_forked_child_publishes_with_a_thread_of_its_own() -> None:
    inner = Gate()
    inner.gate.set()
    publisher = BackgroundPublisher(inner)
    publisher.publish([row(1)])
    assert publisher.flush(5)

    pid = os.fork()
    if pid == 0:  # the child: the parent's thread did not come along
        publisher.publish([row(2)])
        os._exit(0 if publisher.flush(5) and inner.batches[-1] == [2] else 1)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    publisher.close()
