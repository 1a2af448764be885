"""The shop's side of the end-to-end benchmarks: orders placed through the intake over HTTP."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

import requests
import zipcodes

# Enough that the intake's workers, not the clients, set the pace of a burst.
CLIENT_THREADS = 8
REQUEST_TIMEOUT = 30.0
# A card the payment sandbox always charges.
GOOD_CARD = "pm_card_visa"


@dataclass(frozen=True)
class Place:
    """A real US ZIP code with its city and coordinates."""

    postal_code: str
    city: str
    latitude: float
    longitude: float


@cache
def _standard_zips() -> list[Place]:
    # Reading the package's list takes seconds: once per process.
    every = zipcodes.list_all()  # type: ignore[no-untyped-call]
    return [
        Place(z["zip_code"], z["city"], float(z["lat"]), float(z["long"]))
        for z in every
        if z["zip_code_type"] == "STANDARD" and z["active"]
    ]


def us_places(rng: random.Random, count: int) -> list[Place]:
    """`count` distinct standard, active US ZIP codes, so orders spread over the warehouses."""
    return rng.sample(_standard_zips(), count)


def order_body(
    rng: random.Random, places: Sequence[Place], articles: Sequence[str]
) -> dict[str, Any]:
    """A guest order of one to three articles, one or two of each, to a random place."""
    place = rng.choice(places)
    customer = uuid.uuid4().hex[:12]
    lines = [
        {"article_number": article, "quantity": rng.randint(1, 2)}
        for article in rng.sample(list(articles), rng.randint(1, 3))
    ]
    return {
        "customer": {"email": f"bench-{customer}@example.com", "name": f"Bench {customer}"},
        "shipping_address": {
            "line1": f"{rng.randint(1, 999)} Main Street",
            "city": place.city,
            "postal_code": place.postal_code,
            "country": "US",
        },
        "delivery_method": rng.choice(["curbside", "in_door"]),
        "payment_method": GOOD_CARD,
        "lines": lines,
    }


class Client:
    """Places orders through the intake, one requests session per thread."""

    def __init__(self, api: str) -> None:
        """A client for the intake at `api`."""
        self._api = api
        self._local = threading.local()

    def place(self, body: dict[str, Any]) -> str:
        """POST one order under a fresh Idempotency-Key; its id (anything but 202 raises)."""
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        session: requests.Session = self._local.session
        response = session.post(
            f"{self._api}/orders",
            json=body,
            headers={"Idempotency-Key": f'"{uuid.uuid4()}"'},
            timeout=REQUEST_TIMEOUT,
        )
        if response.status_code != 202:
            raise RuntimeError(f"the intake answered {response.status_code}: {response.text}")
        return str(response.json()["order_id"])

    def place_all(self, bodies: Sequence[dict[str, Any]]) -> list[str]:
        """Place every order as fast as the intake takes them; their ids."""
        with ThreadPoolExecutor(CLIENT_THREADS, thread_name_prefix="client") as pool:
            return list(pool.map(self.place, bodies))

    def place_paced(self, bodies: Sequence[dict[str, Any]], rate: float) -> list[str]:
        """Place the orders `1 / rate` seconds apart, however long each request takes."""
        started = time.monotonic()
        with ThreadPoolExecutor(CLIENT_THREADS, thread_name_prefix="client") as pool:
            futures = []
            for index, body in enumerate(bodies):
                delay = started + index / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(self.place, body))
            return [future.result() for future in futures]
