"""The embedded SQS endpoint: moto's server, without the quadratic work in its hot paths.

moto checks each message it hands out against the queue's retention period by computing
every queue attribute, and the message counts among them walk the whole queue, reading
the clock through a datetime per message. So a receive costs the queue's length for each
message it returns: about 5 ms of CPU a message at a few hundred queued, the largest cost
of an order under `make run`. Here the retention check reads the one attribute it needs,
and moto's clock is `time.time()`. What the endpoint answers is unchanged.

`python -m devstack.sqs_server -H HOST -p PORT` takes moto.server's arguments.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from functools import cache

from moto import backends
from moto.sqs import models
from moto.sqs.models import Message, SQSBackend

_datetime_unix_time = models.unix_time  # type: ignore[attr-defined]


def _unix_time(dt: datetime | None = None) -> float:
    return time.time() if dt is None else float(_datetime_unix_time(dt))


def _unix_time_millis(dt: datetime | None = None) -> float:
    return _unix_time(dt) * 1000.0


def _retained(self: SQSBackend, queue_name: str, message: Message) -> bool:
    period = int(self.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
    sent_at = int(message.sent_timestamp or 0) / 1000
    return sent_at + period > time.time()


_list_modules = backends.list_of_moto_modules


@cache
def _moto_modules() -> Iterable[str]:
    return tuple(_list_modules())


def patch() -> None:
    """Make the SQS backend's clock and retention check cheap, in this process."""
    models.unix_time = _unix_time  # type: ignore[attr-defined]
    models.unix_time_millis = _unix_time_millis  # type: ignore[attr-defined]
    SQSBackend.is_message_valid_based_on_retention_period = _retained  # type: ignore[method-assign]
    backends.list_of_moto_modules = _moto_modules


def main() -> None:
    """moto's server, patched."""
    patch()
    from moto.server import main as serve  # noqa: PLC0415 - after the patch, as moto imports

    serve()


if __name__ == "__main__":
    main()
