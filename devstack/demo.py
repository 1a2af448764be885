"""Place a few hundred sample orders against a running stack and report how they ended."""

from __future__ import annotations

import argparse
import math
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from devstack.datadir import data_dir
from devstack.demo_after import CANCELS, after_checkout, placed_orders
from devstack.demo_holds import HOLDS, review
from devstack.demo_orders import build_order, catalogue, held_order, two_line_order
from devstack.state import demo_target
from intake.auth import issue_admin_token
from models.domain.lifecycle import TERMINAL, OrderStatus
from settings import get_settings

# The demo stops watching at shipped: delivery is the carrier's business, days later; at
# ready for pickup, where a pickup order waits for its customer as a parcel for its carrier;
# and where an order waits for stock the demo never adds: backordered, or partially shipped
# (its first part on its way, the rest to follow when stock arrives).
WAITING = (
    OrderStatus.SHIPPED,
    OrderStatus.READY_FOR_PICKUP,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.BACKORDERED,
)
FINAL_STATUSES = frozenset({*(str(s) for s in WAITING), *(str(s) for s in TERMINAL)})
SHIPPED_STATUSES = frozenset(
    str(s)
    for s in (
        OrderStatus.SHIPPED,
        OrderStatus.READY_FOR_PICKUP,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.COLLECTED,
    )
)
RETRYABLE = frozenset({409, 429, 500, 502, 503, 504})
Rows = list[tuple[str, str]]


@dataclass(frozen=True)
class Outcome:
    """How one order ended, and how long the intake and the pipeline took."""

    status: str
    post_seconds: float | None = None
    shipped_seconds: float | None = None


@dataclass
class Tracked:
    """An order being placed and watched."""

    started: float
    status: str
    status_url: str | None = None
    token: str | None = None
    post_seconds: float | None = None
    shipped_seconds: float | None = None
    final: bool = False

    def outcome(self) -> Outcome:
        """The outcome so far; an order still moving at the deadline says where it stopped."""
        status = self.status if self.final else f"timed out ({self.status})"
        return Outcome(status, self.post_seconds, self.shipped_seconds)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The nearest-rank percentile, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def _spread(values: Sequence[float], unit: str, scale: float, digits: int) -> str:
    p50, p95 = percentile(values, 50), percentile(values, 95)
    if p50 is None or p95 is None:
        return "-"
    return f"{p50 * scale:.{digits}f} {unit} / {p95 * scale:.{digits}f} {unit}"


def summarise(outcomes: Sequence[Outcome]) -> list[tuple[str, str]]:
    """Table rows: orders per outcome, most common first, then the latency percentiles."""
    counts = Counter(outcome.status for outcome in outcomes)
    rows = [(status, str(n)) for status, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]
    posts = [o.post_seconds for o in outcomes if o.post_seconds is not None]
    ships = [o.shipped_seconds for o in outcomes if o.shipped_seconds is not None]
    return [
        *rows,
        ("total", str(len(outcomes))),
        ("POST latency p50 / p95", _spread(posts, "ms", 1000, 0)),
        ("time to shipped p50 / p95", _spread(ships, "s", 1, 1)),
    ]


_local = threading.local()


def _session() -> requests.Session:
    """One HTTP session per thread: a Session is not documented as safe to share."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    session: requests.Session = _local.session
    return session


def place(base_url: str, order: dict[str, Any], attempts: int = 3) -> Tracked:
    """POST one order, retrying transient failures under the same Idempotency-Key."""
    # A fresh key per run: a seeded key would replay yesterday's stored responses.
    key, tracked, reason = str(uuid.uuid4()), Tracked(time.monotonic(), "not sent"), ""
    for attempt in range(attempts):
        sent = time.monotonic()
        try:
            response = _session().post(
                f"{base_url}/orders",
                json=order,
                headers={"Idempotency-Key": f'"{key}"'},
                timeout=10,
            )
        except requests.RequestException as error:
            reason = type(error).__name__
        else:
            if response.ok:
                body = response.json()
                tracked.status, tracked.status_url = str(body["status"]), str(body["status_url"])
                tracked.token, tracked.post_seconds = (
                    str(body["order_token"]),
                    time.monotonic() - sent,
                )
                return tracked
            reason = str(response.status_code)
            if response.status_code not in RETRYABLE:
                break
        time.sleep(0.2 * 2**attempt)
    tracked.status, tracked.final = f"not accepted ({reason})", True
    return tracked


def poll(tracked: Tracked) -> None:
    """Read one order's status once; a failed read is simply tried again next round."""
    if tracked.status_url is None:
        return
    headers = {"Authorization": f"Bearer {tracked.token}"}
    try:
        response = _session().get(tracked.status_url, headers=headers, timeout=10)
    except requests.RequestException:
        return
    if not response.ok:
        return
    try:
        tracked.status = str(response.json()["status"])
    except (ValueError, KeyError):
        return
    if tracked.status in SHIPPED_STATUSES and tracked.shipped_seconds is None:
        tracked.shipped_seconds = time.monotonic() - tracked.started
    tracked.final = tracked.status in FINAL_STATUSES


def run(args: argparse.Namespace, articles: Sequence[str], console: Console) -> list[Tracked]:
    """Place every order, then watch them until each is final or time runs out."""
    rng = random.Random(args.seed)
    orders = [build_order(rng, articles) for _ in range(args.orders)]
    tracked: list[Tracked] = []
    with Progress(console=console) as progress, ThreadPoolExecutor(args.concurrency) as pool:
        placing = progress.add_task("placing orders", total=len(orders))
        for future in as_completed([pool.submit(place, args.base_url, o) for o in orders]):
            tracked.append(future.result())
            progress.advance(placing)
        pending = [t for t in tracked if not t.final]
        waiting = progress.add_task("awaiting a final status", total=len(pending))
        deadline = time.monotonic() + args.timeout
        while pending and time.monotonic() < deadline:
            list(pool.map(poll, pending))
            progress.advance(waiting, sum(t.final for t in pending))
            pending = [t for t in pending if not t.final]
            if pending:
                time.sleep(args.poll_interval)
    return tracked


def later_on(args: argparse.Namespace, articles: Sequence[str], tracked: list[Tracked]) -> Rows:
    """The after-checkout phase: a few fresh orders lose a line, a few shipped ones come back,
    and staff release or cancel a few orders held for review."""
    rng = random.Random(args.seed + 1)
    fresh = [place(args.base_url, two_line_order(rng, articles)) for _ in range(CANCELS)]
    held = [place(args.base_url, held_order(rng, articles)) for _ in range(HOLDS)]
    shipped = placed_orders(tracked, frozenset({str(OrderStatus.SHIPPED)}))
    received = frozenset({"received", "allocated", "paid", "backordered"})
    settings = get_settings()
    rows = after_checkout(_session(), settings, placed_orders(fresh, received), shipped)
    staff = issue_admin_token(settings, "demo-staff", 30)
    reviewed = review(_session(), staff, placed_orders(held, received))
    return [*rows, *((label, str(count)) for label, count in sorted(reviewed.items()))]


def ready(base_url: str, console: Console) -> bool:
    """Whether the intake says it is ready; says why not, so a cold stack is not a mystery."""
    try:
        response = _session().get(f"{base_url}/readyz", timeout=5)
    except requests.RequestException as error:
        console.print(f"[red]nothing answers at {base_url}: {type(error).__name__}[/red]")
        return False
    if not response.ok:
        console.print(f"[red]{base_url} is not ready ({response.status_code}): {response.text}")
    return bool(response.ok)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m devstack.demo", description=__doc__)
    parser.add_argument(
        "--base-url", help="the API to use (default: the one `make run` records it started)"
    )
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait after placing"
    )
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7, help="the same seed places the same orders")
    parser.add_argument("--table-file", type=Path, help="also write the result table here")
    parser.add_argument(
        "--no-after-checkout",
        dest="after_checkout",
        action="store_false",
        help="skip cancelling lines, returning parcels and releasing held orders at the end",
    )
    args = parser.parse_args(argv)
    if args.base_url:
        args.base_url = args.base_url.rstrip("/")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo and print the outcome table; fails only when there is nothing to run against."""
    args, console = parse_args(argv), Console()
    args.base_url, why = demo_target(args.base_url, data_dir(get_settings()).root)
    if args.base_url is None:
        console.print(f"[red]{why}[/red]")
        return 1
    console.print(f"placing orders at {why}")
    if not ready(args.base_url, console):
        return 1
    articles = catalogue()
    if not articles:
        console.print("[red]devstack.seed lists no products to order[/red]")
        return 1
    started = time.monotonic()
    tracked = run(args, articles, console)
    outcomes = [t.outcome() for t in tracked]
    after = later_on(args, articles, tracked) if args.after_checkout else []
    table = Table(
        title=f"{len(outcomes)} orders in {time.monotonic() - started:.0f} s",
        caption="time to shipped is observed by polling, so it is accurate to about one poll",
    )
    table.add_column("outcome")
    table.add_column("orders / time", justify="right")
    for label, value in [*summarise(outcomes), *after]:
        table.add_row(label, value)
    console.print(table)
    if args.table_file is not None:
        with args.table_file.open("w") as sink:
            Console(file=sink, width=100, color_system=None).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
