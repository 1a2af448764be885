"""What every benchmark needs: a throwaway database, bulk loading, threaded timing, tables."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Engine, event

from devstack.postgres import fresh_database, plain_url
from devstack.services import postgres_answers, start_postgres

R = TypeVar("R")

# The server settings that decide how fast a commit can be.
COMMIT_SETTINGS = ("synchronous_commit", "fsync", "wal_sync_method", "shared_buffers")


def connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    """A plain psycopg connection to `url`, for setup and checks outside the code measured."""
    return psycopg.connect(plain_url(url))


@contextlib.contextmanager
def postgres_server(url: str) -> Iterator[tuple[str, bool]]:
    """The server at `url` when it answers, else an embedded one; and whether it is embedded."""
    if postgres_answers(url):
        yield url, False
        return
    service = start_postgres()
    try:
        yield service.url, True
    finally:
        service.stop()


def copy_rows(
    connection: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> None:
    """Load `rows` into `table` with COPY: orders of magnitude faster than INSERTs."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def vacuum_analyze(url: str) -> None:
    """Fresh planner statistics and visibility maps, so runs do not start with stale plans."""
    with psycopg.connect(plain_url(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def machine_facts(url: str, embedded: bool) -> list[tuple[str, str]]:
    """The facts a reader needs to compare runs: server, commit durability, cores."""
    with psycopg.connect(plain_url(url)) as connection:
        version = connection.execute("SELECT version()").fetchone()
        facts = [("PostgreSQL", str(version[0] if version else "?").split(" on ")[0])]
        facts.append(("server", "embedded" if embedded else "local, already running"))
        for name in COMMIT_SETTINGS:
            row = connection.execute("SELECT current_setting(%s)", (name,)).fetchone()
            facts.append((name, str(row[0]) if row else "?"))
    facts.append(("cores", str(os.cpu_count())))
    facts.append(("Python", f"{platform.python_implementation()} {platform.python_version()}"))
    return facts


def timed_threads(
    count: int,
    prepare: Callable[[int], Callable[[], R]],
    on_start: Callable[[], object] | None = None,
) -> tuple[float, list[R]]:
    """Run `count` threads; each prepares untimed, then all start together; wall seconds, results.

    `prepare(i)` opens connections and the like and returns the work to time; `on_start()` runs
    as the clock starts, to take other readings (CPU time, say) over the same span.
    """
    barrier = threading.Barrier(count + 1)
    results: list[R | None] = [None] * count
    errors: list[BaseException] = []

    def thread(index: int) -> None:
        try:
            work = prepare(index)
            barrier.wait()
            results[index] = work()
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()  # a failed prepare must not leave the others waiting forever

    threads = [threading.Thread(target=thread, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    if on_start is not None:
        on_start()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed, [r for r in results if r is not None]


def shares(items: Sequence[R], count: int) -> list[list[R]]:
    """`items` dealt round-robin into `count` shares."""
    return [list(items[i::count]) for i in range(count)]


def seconds_per_call(call: Callable[[int], object], iterations: int) -> float:
    """Mean seconds of `call(i)` over `iterations` calls."""
    started = time.perf_counter()
    for i in range(iterations):
        call(i)
    return (time.perf_counter() - started) / iterations


@dataclass
class StatementTally:
    """Statements an engine ran, by their first word, and the seconds spent inside them."""

    kinds: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def statements(self) -> int:
        """How many statements ran."""
        return sum(self.kinds.values())


@contextlib.contextmanager
def counting_statements(engine: Engine) -> Iterator[StatementTally]:
    """Count and time the statements `engine` runs inside the block (use from one thread)."""
    tally = StatementTally()

    def before(connection: Connection, cursor: object, statement: str, *_: object) -> None:
        connection.info["bench_started"] = time.perf_counter()
        tally.kinds[statement.split(None, 1)[0].upper()] += 1

    def after(connection: Connection, *_: object) -> None:
        tally.seconds += time.perf_counter() - connection.info.pop("bench_started")

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield tally
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def bytes_allocated(make: Callable[[], object]) -> int:
    """Bytes of memory the object `make()` returns holds on to (as allocated while making it)."""
    tracemalloc.start()
    try:
        made = make()
        size = tracemalloc.get_traced_memory()[0]
        del made
    finally:
        tracemalloc.stop()
    return size


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain-text table: text left-aligned, numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [all(_is_number(row[i]) for row in cells) for i in range(len(headers))]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        padded = (
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        )
        return "  ".join(padded).rstrip()

    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in cells:
        print(line(row))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).lstrip("-").isdigit() or text == "-"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between the nearest ranks."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


__all__ = ["fresh_database", "plain_url"]
