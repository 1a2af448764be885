"""HTTP load in a process of its own: `python -m bench.load < spec.json > result.json`.

N keep-alive HTTP/1.1 connections over raw sockets, each sending the next request as soon as
the last is answered; every request carries a fresh Idempotency-Key. Only the standard library
is imported, so the process starts fast, and no GIL is shared with the server it measures.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

NO_ANSWER = 0  # the status recorded when a request got no HTTP answer at all
ERROR_SAMPLE_BYTES = 500


@dataclass(frozen=True)
class Spec:
    """What to send, where, over how many connections and for how long."""

    host: str
    port: int
    path: str
    bodies: list[str]
    connections: int
    warmup: float
    seconds: float


@dataclass
class Tally:
    """What came back: latencies in the measured window, and every answer's status."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    first_error: str | None = None
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def accepted(self) -> int:
        """Requests answered 2xx, warm-up and stragglers included: each should be a row."""
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    def record(self, status: int, detail: bytes | str) -> None:
        """Count one answer; keep the first error, to say why the run failed."""
        self.statuses[status] += 1
        if not 200 <= status < 300 and self.first_error is None:
            text = detail if isinstance(detail, str) else detail.decode(errors="replace")
            self.first_error = f"{status}: {text[:ERROR_SAMPLE_BYTES]}"


class Requests:
    """Request bytes built ahead, but for the Idempotency-Key, which is new every time."""

    def __init__(self, spec: Spec) -> None:
        """One head and tail per body; requests cycle through the bodies."""
        self._parts = []
        for text in spec.bodies:
            body = text.encode()
            head = (
                f"POST {spec.path} HTTP/1.1\r\nHost: {spec.host}:{spec.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                "Idempotency-Key: "
            ).encode()
            self._parts.append((head, b"\r\n\r\n" + body))
        self._next = 0

    def next(self) -> bytes:
        """The next request, with its own key."""
        head, tail = self._parts[self._next % len(self._parts)]
        self._next += 1
        return head + f'"{uuid.uuid4()}"'.encode() + tail


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """Status, whether the server closes the connection after it, and the body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
        elif name == b"transfer-encoding":
            # Neither app streams; a chunked answer would be read wrongly, so refuse it.
            raise ValueError("chunked responses are not supported")
    return status, close, await reader.readexactly(length)


async def client(spec: Spec, requests: Requests, window: tuple[float, float], tally: Tally) -> None:
    """One connection: request after request until the window ends (reconnecting if told to)."""
    start, end = window
    reader, writer = await asyncio.open_connection(spec.host, spec.port)
    try:
        while time.perf_counter() < end:
            sent = time.perf_counter()
            writer.write(requests.next())
            try:
                status, close, body = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                status, close, body = NO_ANSWER, True, repr(error).encode()
            answered = time.perf_counter()
            tally.record(status, body)
            if start <= answered <= end:
                tally.latencies_ms.append(round(1000 * (answered - sent), 3))
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(spec.host, spec.port)
    finally:
        writer.close()


async def run(spec: Spec) -> Tally:
    """All connections at once: warm-up, then the measured window; CPU over the window."""
    tally = Tally()
    started = time.perf_counter()
    window = (started + spec.warmup, started + spec.warmup + spec.seconds)
    requests = Requests(spec)
    clients = [client(spec, requests, window, tally) for _ in range(spec.connections)]
    tasks = asyncio.gather(*clients)
    await asyncio.sleep(spec.warmup)
    cpu_before, wall_before = _cpu(), time.perf_counter()
    await asyncio.sleep(max(0.0, window[1] - time.perf_counter()))
    tally.cpu_seconds, tally.wall_seconds = _cpu() - cpu_before, time.perf_counter() - wall_before
    await tasks
    return tally


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Read the spec as JSON from stdin, run it, write the tally as JSON to stdout."""
    spec = Spec(**json.load(sys.stdin))
    tally = asyncio.run(run(spec))
    document: dict[str, Any] = asdict(tally) | {"accepted": tally.accepted}
    document["statuses"] = {str(status): n for status, n in tally.statuses.items()}
    json.dump(document, sys.stdout)


if __name__ == "__main__":
    main()
