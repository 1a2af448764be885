"""The load generator counts every answer and keeps the first error, so failures cannot hide."""

from __future__ import annotations

import asyncio

from bench.load import Spec, Tally, run

BODY = b'{"title": "Service Unavailable"}'


async def load_against(status: bytes) -> Tally:
    """bench.load for a moment against a server that answers every request with `status`."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: %d\r\n\r\n" % len(BODY))
                writer.write(BODY)
        except asyncio.IncompleteReadError:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    spec = Spec("127.0.0.1", port, "/orders", ['{"n": 1}', '{"n": 2}'], 2, 0.05, 0.2)
    async with server:
        return await run(spec)


def test_every_answer_is_counted_and_measured_in_the_window() -> None:
    tally = asyncio.run(load_against(b"202 Accepted"))

    assert tally.first_error is None
    assert tally.accepted == sum(tally.statuses.values()) > len(tally.latencies_ms) > 0


def test_a_failed_request_is_an_error_with_its_answer_kept() -> None:
    tally = asyncio.run(load_against(b"503 Service Unavailable"))

    assert tally.accepted == 0
    assert set(tally.statuses) == {503}
    assert tally.first_error == f"503: {BODY.decode()}"
