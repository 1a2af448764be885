"""Create the SQS orders queue and its dead-letter queue: `python -m workers.create_queues`."""

from __future__ import annotations

from settings import get_settings
from workers.adapters.sqs import OrdersQueue


def main() -> None:
    """Create the queues named in the settings, with the redrive policy."""
    settings = get_settings()
    queue = OrdersQueue.from_settings(settings, timeout=10)
    queue.ensure(
        max_receive_count=settings.sqs_max_receive_count,
        visibility_timeout=settings.sqs_visibility_timeout,
    )
    print(f"queues ready: {settings.orders_queue}, {settings.orders_dlq}")


if __name__ == "__main__":
    main()
