"""A chain of no-op Celery tasks, the floor the pipeline is measured against.

`celery -A bench.noop_chain worker ...` runs it with the system's own Celery settings
(celeryconfig: late acks, prefetch 1, events, JSON) and broker transport. One task sends
itself on, by name as the pipeline's steps send theirs, until the chain has its length;
the last records when the chain began and ended in a Redis list.
"""

from __future__ import annotations

import json
import time
from functools import cache

import redis
from celery import Celery

from settings import get_settings
from workers.broker import serve_redis_urls

TASK = "bench.noop"


def queue_name(prefix: str) -> str:
    """The one queue the chains run on, beside the pipeline's queues on the same broker."""
    return f"{prefix}noop"


def done_key(prefix: str) -> str:
    """The Redis list each finished chain is recorded in: [chain, began, ended] as JSON."""
    return f"{prefix}noop-done"


# As workers/app.py does, so the transport is the one the pipeline runs on.
serve_redis_urls()
app = Celery("noop_chain")
app.config_from_object("celeryconfig")


@cache
def _recorder() -> redis.Redis:
    return redis.Redis.from_url(get_settings().require_redis_url())


@app.task(name=TASK)
def step(chain: str, remaining: int, began: float) -> None:
    """Send the next link, or record that the chain is done."""
    prefix = get_settings().celery_queue_prefix
    if remaining > 1:
        app.send_task(TASK, args=[chain, remaining - 1, began], queue=queue_name(prefix))
        return
    _recorder().rpush(done_key(prefix), json.dumps([chain, began, time.time()]))
