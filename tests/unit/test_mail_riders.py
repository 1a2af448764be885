"""What a unit of work commits goes out in as few messages as it can: mails ride with a step."""

from __future__ import annotations

from typing import Any

from models.domain.follow_ups import SENT_HERE, TASK, FollowUp
from models.domain.tasks import ALLOCATE, CHARGE, NOTIFY, SHIP
from workers.adapters.publishers import TaskPublisher


def row(row_id: int, task: str, *args: str) -> FollowUp:
    return FollowUp(row_id, TASK, {"task": task, "args": list(args)}, 1, True)


def sent_by(publisher_of: Any, follow_ups: list[FollowUp]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    publisher_of(lambda name, **options: sent.append({"name": name, **options})).publish(follow_ups)
    return [{"name": s["name"], "args": s["args"], **s["kwargs"]} for s in sent]


def carrying(send: Any) -> TaskPublisher:
    return TaskPublisher(send, carry_mails=True)


def test_a_mail_committed_with_a_step_of_its_order_rides_in_that_steps_message() -> None:
    committed = [
        row(1, NOTIFY, "o-1", "received"),
        row(2, ALLOCATE, "o-1"),
        row(3, NOTIFY, "o-2", "received"),
        row(4, ALLOCATE, "o-2"),
    ]

    assert sent_by(carrying, committed) == [
        {
            "name": ALLOCATE,
            "args": ["o-1"],
            "follow_up": 2,
            "riders": [[1, NOTIFY, ["o-1", "received"]]],
        },
        {
            "name": ALLOCATE,
            "args": ["o-2"],
            "follow_up": 4,
            "riders": [[3, NOTIFY, ["o-2", "received"]]],
        },
    ]


def test_a_mail_with_no_step_of_its_order_goes_alone_and_the_relay_never_carries() -> None:
    committed = [row(5, SHIP, "o-1"), row(6, NOTIFY, "o-2", "paid")]

    assert sent_by(carrying, committed) == [
        {"name": SHIP, "args": ["o-1"], "follow_up": 5},
        {"name": NOTIFY, "args": ["o-2", "paid"], "follow_up": 6},
    ]
    # The relay publishes rows as they are: each its own task.
    plain = sent_by(TaskPublisher, [row(7, NOTIFY, "o-1", "paid"), row(8, SHIP, "o-1")])
    assert [s["follow_up"] for s in plain] == [7, 8]
    assert all("riders" not in s for s in plain)


def test_inside_a_task_of_a_worker_that_sends_mail_the_mails_are_left_to_that_task() -> None:
    here: list[FollowUp] = []
    token = SENT_HERE.set(here)
    try:
        sent = sent_by(carrying, [row(9, CHARGE, "o-1"), row(10, NOTIFY, "o-1", "back_in_stock")])
    finally:
        SENT_HERE.reset(token)

    assert sent == [{"name": CHARGE, "args": ["o-1"], "follow_up": 9}]
    assert [mail.id for mail in here] == [10]
