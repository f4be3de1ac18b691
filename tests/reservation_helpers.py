"""What the reservation tests (issue 3) arrange, send and ask.

The ledger questions are written in SQL of their own, not through the
service's repositories: a check that reuses the code under test proves little.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aio_pika
import httpx
import msgspec
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from service.contracts.stock import PostMovements, Receipt
from service.messaging.topology import DEAD_LETTER_QUEUE
from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases.locations import put_location
from service.usecases.stock import post_movements
from tests.helpers import location_in

T = TypeVar("T")
Line = tuple[str, int]


# ------------------------------------------------------------------ arranging


async def given_stock(db: Database, location_id: str, *stock: Line, **location: Any) -> None:
    """A store ``location_id`` (fields overridable) holding ``stock`` units per sku."""
    await put_location(db, location_id, location_in(**location))
    if stock:
        receipts = [Receipt(sku=sku, location_id=location_id, quantity=q) for sku, q in stock]
        await post_movements(
            db, PostMovements(movements=list(receipts)), idempotency_key=uuid.uuid4().hex,
            caller="test", actor="test", max_batch=1000,
        )  # fmt: skip


def lines_of(*lines: Line) -> list[dict[str, Any]]:
    return [{"sku": sku, "quantity": quantity} for sku, quantity in lines]


def create_body(reservation_id: str, location_id: str, *lines: Line, **more: Any) -> dict[str, Any]:
    return {
        "reservation_id": reservation_id,
        "location_id": location_id,
        "lines": lines_of(*lines),
        **more,
    }


def create_message(
    message_id: str, reservation_id: str, location_id: str, *lines: Line, **more: Any
) -> dict[str, Any]:
    body = create_body(reservation_id, location_id, *lines, **more)
    return {"type": "reservation.create", "message_id": message_id, **body}


async def reserve(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/reservations", json=body)


# ------------------------------------------------------------------ the ledger


@dataclass(frozen=True)
class Figures:
    on_hand: int
    reserved: int
    safety_stock: int

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)


async def figures(pool: Pool, location_id: str, sku: str) -> Figures:
    row = await pool.fetchrow(
        """SELECT b.on_hand, b.reserved, coalesce(b.safety_stock, l.default_safety_stock) AS s
           FROM balances b JOIN locations l USING (location_id)
           WHERE b.location_id = $1 AND b.sku = $2""",
        location_id,
        sku,
    )
    assert row is not None, f"no balance for {location_id}/{sku}"
    return Figures(row["on_hand"], row["reserved"], row["s"])


async def movements_of(pool: Pool, reference: str) -> list[tuple[str, str, int, int]]:
    """(kind, sku, on_hand_delta, reserved_delta) of every movement about ``reference``."""
    rows = await pool.fetch(
        """SELECT kind, sku, on_hand_delta, reserved_delta FROM movements
           WHERE reference = $1 ORDER BY movement_id""",
        reference,
    )
    return [(r["kind"], r["sku"], r["on_hand_delta"], r["reserved_delta"]) for r in rows]


async def count_rows(pool: Pool, table: str, where: str = "TRUE", *args: Any) -> int:
    value: int = await pool.fetchval(f'SELECT count(*) FROM "{table}" WHERE {where}', *args)
    return value


async def ledger_errors(pool: Pool) -> list[str]:
    """Every way the balances disagree with their movements or their reservations."""
    rows = await pool.fetch(
        """SELECT b.location_id, b.sku, b.on_hand, b.reserved,
                  coalesce(m.on_hand, 0) AS m_on_hand, coalesce(m.reserved, 0) AS m_reserved,
                  coalesce(a.reserved, 0) AS a_reserved
           FROM balances b
           LEFT JOIN (SELECT location_id, sku, sum(on_hand_delta) AS on_hand,
                             sum(reserved_delta) AS reserved
                      FROM movements GROUP BY 1, 2) m USING (location_id, sku)
           LEFT JOIN (SELECT l.location_id, l.sku, sum(l.quantity) AS reserved
                      FROM reservation_lines l JOIN reservations r USING (location_id, reservation_id)
                      WHERE r.status = 'active' GROUP BY 1, 2) a USING (location_id, sku)
           ORDER BY 1, 2"""
    )
    errors = []
    for r in rows:
        where = f"{r['location_id']}/{r['sku']}"
        if (r["on_hand"], r["reserved"]) != (r["m_on_hand"], r["m_reserved"]):
            errors.append(
                f"{where}: balance ({r['on_hand']}, {r['reserved']}) != movements "
                f"({r['m_on_hand']}, {r['m_reserved']})"
            )
        if r["reserved"] != r["a_reserved"]:
            errors.append(f"{where}: reserved {r['reserved']} != active lines {r['a_reserved']}")
    return errors


async def oversell_failures(
    pool: Pool, location_id: str, sku: str, *, units: int, confirmed: int
) -> list[str]:
    """Why a race of reservations for ``units`` units, of which ``confirmed`` were
    confirmed, broke the no-oversell promise (empty when it kept it)."""
    now = await figures(pool, location_id, sku)
    failures = []
    if now.reserved > now.on_hand - now.safety_stock:
        failures.append(f"oversold: {now.reserved} reserved of {now.on_hand} on hand")
    if confirmed != units:
        failures.append(f"{confirmed} reservations confirmed for {units} units")
    if now.reserved != confirmed:
        failures.append(f"{now.reserved} units reserved for {confirmed} confirmations")
    return failures + await ledger_errors(pool)


async def race(attempts: int, attempt: Callable[[int], Awaitable[bool]]) -> int:
    """Start every attempt at once; how many succeeded."""
    results = await asyncio.gather(*(attempt(i) for i in range(attempts)))
    return sum(results)


async def naive_reserve(pool: Pool, location_id: str, sku: str, reservation_id: str) -> bool:
    """Check-then-write, the way not to do it: the availability read and the write are
    separate statements, so every racer can see the same last units (the pause only
    widens the window). Otherwise it writes what the real engine writes."""
    async with pool.acquire() as conn:
        available = await conn.fetchval(
            """SELECT b.on_hand - b.reserved - coalesce(b.safety_stock, l.default_safety_stock)
               FROM balances b JOIN locations l USING (location_id)
               WHERE b.location_id = $1 AND b.sku = $2""",
            location_id,
            sku,
        )
        if available < 1:
            return False
        await asyncio.sleep(0.01)
        async with conn.transaction():
            await conn.execute(
                """UPDATE balances SET reserved = reserved + 1
                   WHERE location_id = $1 AND sku = $2""",
                location_id,
                sku,
            )
            await conn.execute(
                """INSERT INTO movements (location_id, sku, kind, reserved_delta, reference,
                                          actor, occurred_at)
                   VALUES ($1, $2, 'reserve', 1, $3, 'naive', now())""",
                location_id,
                sku,
                reservation_id,
            )
            await conn.execute(
                """INSERT INTO reservations (location_id, reservation_id, channel, fingerprint,
                                             expires_at)
                   VALUES ($1, $2, 'webshop', 'naive', now() + interval '15 minutes')""",
                location_id,
                reservation_id,
            )
            await conn.execute(
                """INSERT INTO reservation_lines (location_id, reservation_id, sku, quantity)
                   VALUES ($1, $2, $3, 1)""",
                location_id,
                reservation_id,
                sku,
            )
    return True


# ------------------------------------------------------------------ waiting


async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, within_s: float = 10.0
) -> T:
    """Poll ``probe`` until it returns something other than None (or fail naming ``what``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        found = await probe()
        if found is not None:
            return found
        assert loop.time() < deadline, f"timed out after {within_s} s waiting for {what}"
        await asyncio.sleep(0.02)


# ------------------------------------------------------------------ the broker


@dataclass
class Inbox:
    """A queue of the test's own that keeps everything it receives (auto-ack)."""

    channel: AbstractChannel
    queue: AbstractQueue
    received: list[AbstractIncomingMessage] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def open(
        cls, connection: AbstractRobustConnection, exchange: str | None = None, *keys: str
    ) -> Inbox:
        """A reply queue; or, with ``exchange``, a queue bound to it with ``keys``."""
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        if exchange is not None:
            for key in keys:
                await queue.bind(exchange, key)
        inbox = cls(channel, queue)
        await queue.consume(inbox._keep, no_ack=True)
        return inbox

    @property
    def name(self) -> str:
        return self.queue.name

    async def _keep(self, message: AbstractIncomingMessage) -> None:
        self.received.append(message)
        self._arrived.set()

    async def wait_for(self, count: int, within_s: float = 10.0) -> list[AbstractIncomingMessage]:
        """The first ``count`` messages, once they are in."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while len(self.received) < count:
            left = deadline - loop.time()
            assert left > 0, f"{len(self.received)} of {count} messages in {within_s} s"
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout=left)
        return self.received[:count]

    async def settle(self, seconds: float = 0.3) -> list[AbstractIncomingMessage]:
        """Everything received once nothing more arrived for ``seconds``."""
        while True:
            seen = len(self.received)
            await asyncio.sleep(seconds)
            if len(self.received) == seen:
                return list(self.received)

    def payloads(self) -> list[dict[str, Any]]:
        return [msgspec.json.decode(m.body) for m in self.received]

    async def where(
        self, match: Callable[[dict[str, Any]], bool], within_s: float = 10.0
    ) -> dict[str, Any]:
        """The first payload received that ``match``es (waiting for it)."""

        async def probe() -> dict[str, Any] | None:
            return next((p for p in self.payloads() if match(p)), None)

        return await eventually(probe, "a matching message", within_s)

    async def close(self) -> None:
        await self.channel.close()


class Publisher:
    """Publishes commands to ``inventory.commands`` with publisher confirms."""

    def __init__(self, channel: AbstractChannel, exchange: aio_pika.abc.AbstractExchange) -> None:
        self.channel = channel
        self.exchange = exchange

    @classmethod
    async def open(cls, connection: AbstractRobustConnection) -> Publisher:
        channel = await connection.channel(publisher_confirms=True)
        return cls(channel, await channel.get_exchange("inventory.commands"))

    async def send(
        self,
        body: dict[str, Any] | bytes,
        *,
        routing_key: str | None = None,
        message_id: str | None = None,
        reply_to: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        """``routing_key`` and ``message_id`` default to the body's ``type`` and ``message_id``."""
        if isinstance(body, dict):
            routing_key = routing_key or body["type"]
            message_id = message_id or body.get("message_id")
            raw = msgspec.json.encode(body)
        else:
            raw = body
        assert routing_key is not None
        await self.exchange.publish(
            aio_pika.Message(
                raw,
                content_type="application/json",
                message_id=message_id,
                reply_to=reply_to,
                correlation_id=correlation_id,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=routing_key,
        )

    async def close(self) -> None:
        await self.channel.close()


async def dead_letters(
    connection: AbstractRobustConnection, count: int, within_s: float = 10.0
) -> list[AbstractIncomingMessage]:
    """Take (and ack) ``count`` messages from the dead-letter queue."""
    channel = await connection.channel()
    try:
        queue = await channel.get_queue(DEAD_LETTER_QUEUE)
        taken: list[AbstractIncomingMessage] = []

        async def probe() -> list[AbstractIncomingMessage] | None:
            message = await queue.get(fail=False)
            if message is not None:
                await message.ack()
                taken.append(message)
            return taken if len(taken) >= count else None

        return await eventually(probe, f"{count} dead letters", within_s)
    finally:
        await channel.close()


async def queue_depth(connection: AbstractRobustConnection, name: str) -> int:
    """Messages ready in queue ``name`` (not counting those delivered and unacked)."""
    channel = await connection.channel()
    try:
        queue = await channel.declare_queue(name, passive=True)
        count = queue.declaration_result.message_count
        return int(count or 0)
    finally:
        await channel.close()
