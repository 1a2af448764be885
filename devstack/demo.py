"""Place a few hundred sample orders against a running stack and report how they ended."""

from __future__ import annotations

import argparse
import importlib
import math
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import requests
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from models.domain.lifecycle import TERMINAL, DeliveryMethod, OrderStatus
from settings import Settings

# The demo stops watching at shipped: delivery is the carrier's business, days later.
FINAL_STATUSES = frozenset({str(OrderStatus.SHIPPED), *(str(status) for status in TERMINAL)})
SHIPPED_STATUSES = frozenset({str(OrderStatus.SHIPPED), str(OrderStatus.DELIVERED)})
RETRYABLE = frozenset({409, 429, 500, 502, 503, 504})

# (postal code, city, region, country); the Swedish ones are served by the Swedish warehouses.
CITIES = [
    ("10001", "New York", "NY", "US"),
    ("60601", "Chicago", "IL", "US"),
    ("94103", "San Francisco", "CA", "US"),
    ("98101", "Seattle", "WA", "US"),
    ("73301", "Austin", "TX", "US"),
    ("33101", "Miami", "FL", "US"),
    ("80202", "Denver", "CO", "US"),
    ("02108", "Boston", "MA", "US"),
    ("211 19", "Malmö", "Skåne", "SE"),
    ("252 25", "Helsingborg", "Skåne", "SE"),
    ("343 30", "Älmhult", "Kronoberg", "SE"),
    ("411 03", "Göteborg", "Västra Götaland", "SE"),
]
STREETS = ["Main Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Elm Street", "Park Place"]
FIRST_NAMES = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov"]

GOOD_CARD = "pm_card_visa"
DECLINED_CARD = "pm_card_chargeDeclined"
DECLINED_SHARE = 0.05
OVERSIZED_SHARE = 0.03
# The most the intake accepts on one line, so validation lets it through and allocation
# decides: such orders drain stock fast, and are rejected once no warehouse holds that many.
OVERSIZED_QUANTITY = int(Settings.model_fields["max_line_quantity"].default)


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


def catalogue() -> list[str]:
    """Article numbers of the seeded products, imported late so the helpers work without it."""
    seed = importlib.import_module("devstack.seed")
    products: list[tuple[str, str, int]] = seed.PRODUCTS
    return [article for article, _name, _price in products]


def build_order(rng: random.Random, articles: Sequence[str]) -> dict[str, Any]:
    """A plausible guest order drawn from `rng`, now and then one meant to fail."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    postal_code, city, region, country = rng.choice(CITIES)
    chosen = rng.sample(list(articles), rng.randint(1, min(3, len(articles))))
    lines = [{"article_number": article, "quantity": rng.randint(1, 3)} for article in chosen]
    if rng.random() < OVERSIZED_SHARE:
        lines[0]["quantity"] = OVERSIZED_QUANTITY
    address = {
        "line1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
        "city": city,
        "postal_code": postal_code,
        "country": country,
    }
    if rng.random() < 0.3:
        address["line2"] = f"Apt {rng.randint(1, 40)}"
    if rng.random() < 0.8:
        address["region"] = region
    return {
        "customer": {
            "email": f"{first}.{last}.{rng.randrange(10**6):06d}@example.com".lower(),
            "name": f"{first} {last}",
        },
        "shipping_address": address,
        "delivery_method": str(rng.choice(list(DeliveryMethod))),
        "payment_method": DECLINED_CARD if rng.random() < DECLINED_SHARE else GOOD_CARD,
        "lines": lines,
    }


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


def run(args: argparse.Namespace, articles: Sequence[str], console: Console) -> list[Outcome]:
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
    return [t.outcome() for t in tracked]


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
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait after placing"
    )
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7, help="the same seed places the same orders")
    args = parser.parse_args(argv)
    args.base_url = args.base_url.rstrip("/")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo and print the outcome table; fails only when there is nothing to run against."""
    args, console = parse_args(argv), Console()
    if not ready(args.base_url, console):
        return 1
    articles = catalogue()
    if not articles:
        console.print("[red]devstack.seed lists no products to order[/red]")
        return 1
    started = time.monotonic()
    outcomes = run(args, articles, console)
    table = Table(
        title=f"{len(outcomes)} orders in {time.monotonic() - started:.0f} s",
        caption="time to shipped is observed by polling, so it is accurate to about one poll",
    )
    table.add_column("outcome")
    table.add_column("orders / time", justify="right")
    for label, value in summarise(outcomes):
        table.add_row(label, value)
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
