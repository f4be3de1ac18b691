"""The broker ceiling: a minimal aio-pika consumer that decodes each message with the
service's msgspec decoder and acks it, with the service's prefetch. Its drain rate of
the same pre-published messages is what the broker and aio-pika allow at most.

Run as its own process, like ``inventory worker``:

    python -m bench.broker_ceiling --url amqp://... --queue Q --expected 20000

Prints one line ``BENCH_JSON {"consumed": n, "seconds": s, "undecodable": u}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time

import aio_pika
import msgspec
import uvloop
from aio_pika.abc import AbstractIncomingMessage

from service.contracts.messages import command_decoder


async def drain(
    url: str, queue_name: str, expected: int, prefetch: int, timeout_s: float
) -> dict[str, float]:
    connection = await aio_pika.connect_robust(url)
    consumed, undecodable = 0, 0
    first: float | None = None
    last = 0.0
    finished = asyncio.Event()

    async def on_message(message: AbstractIncomingMessage) -> None:
        nonlocal consumed, undecodable, first, last
        if first is None:
            first = time.monotonic()
        try:
            command_decoder.decode(message.body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            undecodable += 1
        await message.ack()
        consumed += 1
        last = time.monotonic()
        if consumed >= expected:
            finished.set()

    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.declare_queue(queue_name, passive=True)
        tag = await queue.consume(on_message)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), timeout_s)
        await queue.cancel(tag)
    finally:
        await connection.close()
    seconds = (last - first) if first is not None else 0.0
    return {"consumed": consumed, "seconds": round(seconds, 4), "undecodable": undecodable}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--expected", type=int, required=True)
    parser.add_argument("--prefetch", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    # On uvloop, as ``inventory worker`` runs: the same event loop on both sides of the ratio.
    result = uvloop.run(drain(args.url, args.queue, args.expected, args.prefetch, args.timeout))
    print("BENCH_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
