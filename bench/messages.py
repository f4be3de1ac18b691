"""Reservations by message: pre-publish, then measure how fast a worker drains them.

While publishing, nothing consumes the command queue (the HTTP service is stopped
and no worker runs), so the drain starts with every message waiting. Then
``inventory worker`` is started and the rate is the number of messages over the
time from the first decision committed to the moment the last one was seen
committed (polled every 50 ms; each decided message has its row in
``idempotency_keys`` under the ``amqp.commands`` scope).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aio_pika
import asyncpg

from bench import catalogue as cat
from bench import profiles
from bench.procs import Processes, python
from bench.service_tree import ServiceTree
from service.contracts.messages import ReservationCreateMessage, encoder
from service.contracts.reservations import ReservationLineIn
from service.messaging.topology import COMMANDS_QUEUE, DEAD_LETTER_QUEUE, declare
from service.usecases.message_idempotency import MESSAGE_SCOPE

PUBLISH_WINDOW = 500
BROKER_CEILING_QUEUE = "bench.broker-ceiling"
TTL_S = 3600


def reservation_messages(
    prefix: str, count: int, nskus: int, hot: tuple[str, str] | None, seed: int = 5
) -> list[tuple[str, bytes]]:
    """(message_id, body) of ``count`` reservation.create commands for one unit each:
    all on the ``hot`` balance, or each on a random existing store balance."""
    rng = random.Random(seed)
    found = []
    for n in range(count):
        if hot is not None:
            location_id, sku = hot
        else:
            k = rng.randint(3, nskus)  # not the hot or the sell-out SKU (see reserve.lua)
            location_id = cat.store_id(cat.store_of(k, rng.randrange(cat.width(k))))
            sku = cat.sku_id(k)
        message_id = f"{prefix}-{n}"
        body = encoder.encode(
            ReservationCreateMessage(
                message_id=message_id,
                reservation_id=message_id,
                location_id=location_id,
                lines=[ReservationLineIn(sku=sku, quantity=1)],
                channel="webshop",
                ttl_seconds=TTL_S,
            )
        )
        found.append((message_id, body))
    return found


async def publish(
    amqp_url: str, messages: list[tuple[str, bytes]], *, to_queue: str | None = None
) -> float:
    """Publish with publisher confirms, ``PUBLISH_WINDOW`` in flight; returns messages/s.

    Without ``to_queue`` they go to the commands exchange as ``reservation.create``;
    with it, straight to that (quorum) queue through the default exchange.
    """
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        if to_queue is None:
            topology = await declare(channel)
            exchange, routing_key = topology.commands, "reservation.create"
        else:
            await channel.declare_queue(
                to_queue, durable=True, arguments={"x-queue-type": "quorum"}
            )
            exchange, routing_key = channel.default_exchange, to_queue
        started = time.monotonic()
        for start in range(0, len(messages), PUBLISH_WINDOW):
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            body,
                            message_id=message_id,
                            content_type="application/json",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=routing_key,
                    )
                    for message_id, body in messages[start : start + PUBLISH_WINDOW]
                )
            )
        return len(messages) / max(time.monotonic() - started, 1e-9)
    finally:
        await connection.close()


async def queue_depths(amqp_url: str, names: list[str]) -> dict[str, int]:
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        channel = await connection.channel()
        depths = {}
        for name in names:
            queue = await channel.declare_queue(name, passive=True)
            depths[name] = queue.declaration_result.message_count or 0
        return depths
    finally:
        await connection.close()


@dataclass
class Drain:
    decided: int
    confirmed: int
    seconds: float
    left_in_queue: int
    dead_lettered: int
    stacks: Path | None = None  # py-spy's collapsed stacks of the worker (--profile)

    @property
    def rate(self) -> float:
        return self.decided / self.seconds if self.seconds else 0.0


DECIDED_SQL = "SELECT count(*) FROM idempotency_keys WHERE scope = $1 AND key LIKE $2"


async def drain_with_worker(
    procs: Processes, tree: ServiceTree, env: dict[str, str], dsn: str, amqp_url: str,
    prefix: str, expected: int, *, profile: bool = False, workers: int = 1,
) -> Drain:  # fmt: skip
    """Start ``workers`` ``inventory worker`` processes (competing consumers of the one
    queue), wait until all ``expected`` messages are decided (bounded), stop them; returns
    the drain figures (``profile``: and py-spy's stacks of the first worker)."""
    conn = await asyncpg.connect(dsn)
    started = [
        await procs.start(f"worker-{prefix}-{n}", tree.argv("worker"), env, cwd=tree.root)
        for n in range(workers)
    ]
    worker = started[0]
    recording = profiles.Recording(procs, prefix, worker.pid) if profile else None
    if recording is not None:
        await recording.start()
    finished = None
    try:
        deadline = time.monotonic() + max(120.0, expected / 50)
        while time.monotonic() < deadline:
            decided = await conn.fetchval(DECIDED_SQL, MESSAGE_SCOPE, f"{prefix}-%")
            if decided >= expected:
                finished = datetime.now().astimezone()
                break
            if any(w.returncode is not None for w in started):
                codes = [w.returncode for w in started]
                raise RuntimeError(f"inventory worker exited: return codes {codes}")
            await asyncio.sleep(0.05)
    finally:
        stacks = await recording.finish() if recording is not None else None
        for each in started:
            await procs.stop(each)
    try:
        first = await conn.fetchval(
            "SELECT min(created_at) FROM idempotency_keys WHERE scope = $1 AND key LIKE $2",
            MESSAGE_SCOPE,
            f"{prefix}-%",
        )
        decided = await conn.fetchval(DECIDED_SQL, MESSAGE_SCOPE, f"{prefix}-%")
        confirmed = await conn.fetchval(
            "SELECT count(*) FROM idempotency_keys WHERE scope = $1 AND key LIKE $2 AND status_code = 201",
            MESSAGE_SCOPE,
            f"{prefix}-%",
        )
    finally:
        await conn.close()
    depths = await queue_depths(amqp_url, [COMMANDS_QUEUE, DEAD_LETTER_QUEUE])
    seconds = (finished - first).total_seconds() if finished and first else 0.0
    return Drain(
        decided, confirmed, seconds, depths[COMMANDS_QUEUE], depths[DEAD_LETTER_QUEUE], stacks
    )


async def broker_ceiling(
    procs: Processes, amqp_url: str, messages: list[tuple[str, bytes]], prefetch: int
) -> tuple[float, int, float]:
    """Publish ``messages`` to a queue of their own and drain them with the minimal
    consumer (bench/broker_ceiling.py). Returns (rate, consumed, seconds)."""
    await publish(amqp_url, messages, to_queue=BROKER_CEILING_QUEUE)
    done = await procs.run(
        [
            python(),
            "-m",
            "bench.broker_ceiling",
            "--url",
            amqp_url,
            "--queue",
            BROKER_CEILING_QUEUE,
            "--expected",
            str(len(messages)),
            "--prefetch",
            str(prefetch),
            "--timeout",
            "300",
        ],
        timeout_s=330,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"broker ceiling failed: {done.stderr or done.stdout}")
    result = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = float(result["seconds"])
    consumed = int(result["consumed"])
    return (consumed / seconds if seconds else 0.0), consumed, seconds
