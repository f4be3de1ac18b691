"""The suite on the broker, connected straight to RabbitMQ (never through the fault
proxy: the webshop that publishes and the systems that listen are not the ones cut off).

- ``prepare``: the service's own topology (so commands can wait before a worker runs)
  and two queues of the suite's: ``chaos.events`` bound to every event, and
  ``chaos.replies``, the ``reply_to`` of every command the suite sends.
- ``Publisher``: ``reservation.create`` commands with ``message_id``, ``reply_to`` and
  ``correlation_id`` (the message id), persistent, with publisher confirms.
- ``Observer``: records every event and reply delivered, with its AMQP message id.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aio_pika
import msgspec
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from chaos.workload import Order
from service.messaging.topology import COMMANDS_QUEUE, DEAD_LETTER_QUEUE, EVENTS_EXCHANGE, declare

EVENTS_QUEUE = "chaos.events"
REPLIES_QUEUE = "chaos.replies"
PUBLISH_WINDOW = 200
_body = msgspec.json.Decoder(dict[str, object])


async def prepare(amqp_url: str) -> None:
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        channel = await connection.channel()
        topology = await declare(channel)
        events = await channel.declare_queue(EVENTS_QUEUE, durable=True)
        await events.bind(topology.events, "#")
        await channel.declare_queue(REPLIES_QUEUE, durable=True)
    finally:
        await connection.close()


async def depths(amqp_url: str) -> dict[str, int]:
    """Messages waiting in the command queue and in its dead-letter queue."""
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        channel = await connection.channel()
        found = {}
        for name in (COMMANDS_QUEUE, DEAD_LETTER_QUEUE):
            queue = await channel.declare_queue(name, passive=True)
            found[name] = queue.declaration_result.message_count or 0
        return found
    finally:
        await connection.close()


class Publisher:
    def __init__(
        self, connection: AbstractRobustConnection, exchange: aio_pika.abc.AbstractExchange
    ) -> None:
        self.connection = connection
        self.exchange = exchange
        self.published = 0

    @classmethod
    async def open(cls, amqp_url: str) -> Publisher:
        connection = await aio_pika.connect_robust(amqp_url)
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange("inventory.commands")
        return cls(connection, exchange)

    async def publish(self, orders: list[Order]) -> None:
        """Publish every order, ``PUBLISH_WINDOW`` confirms in flight."""
        for start in range(0, len(orders), PUBLISH_WINDOW):
            await asyncio.gather(*(self._one(o) for o in orders[start : start + PUBLISH_WINDOW]))

    async def publish_paced(self, orders: list[Order], per_s: float) -> None:
        """Publish in batches of a tenth of a second's worth, at ``per_s`` a second."""
        batch = max(1, int(per_s / 10))
        began = time.monotonic()
        for start in range(0, len(orders), batch):
            await asyncio.gather(*(self._one(o) for o in orders[start : start + batch]))
            ahead = began + (start + batch) / per_s - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)

    async def _one(self, order: Order) -> None:
        await self.exchange.publish(
            aio_pika.Message(
                order.message_body(),
                message_id=order.reservation_id,
                correlation_id=order.reservation_id,
                reply_to=REPLIES_QUEUE,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key="reservation.create",
        )
        self.published += 1

    async def close(self) -> None:
        await self.connection.close()


@dataclass(frozen=True, slots=True)
class Delivered:
    queue: str  # EVENTS_QUEUE or REPLIES_QUEUE
    message_id: str | None  # the AMQP property
    correlation_id: str | None
    type: str
    event_id: str | None  # in the body
    reservation_id: str | None
    body: bytes


class Observer:
    def __init__(self, connection: AbstractRobustConnection) -> None:
        self.connection = connection
        self.delivered: list[Delivered] = []
        self.last_at = time.monotonic()

    @classmethod
    async def open(cls, amqp_url: str) -> Observer:
        observer = cls(await aio_pika.connect_robust(amqp_url))
        channel = await observer.connection.channel()
        await channel.set_qos(prefetch_count=1000)
        for name in (EVENTS_QUEUE, REPLIES_QUEUE):
            queue = await channel.get_queue(name)
            await queue.consume(observer._on(name), no_ack=True)
        return observer

    def _on(self, queue: str):  # type: ignore[no-untyped-def]
        async def record(message: AbstractIncomingMessage) -> None:
            self.delivered.append(delivered(queue, message))
            self.last_at = time.monotonic()

        return record

    def of(self, queue: str) -> list[Delivered]:
        return [d for d in self.delivered if d.queue == queue]

    async def quiet(self, for_s: float, within_s: float) -> bool:
        """Wait until nothing was delivered for ``for_s``; False if that took too long."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if time.monotonic() - self.last_at >= for_s:
                return True
            await asyncio.sleep(0.1)
        return False

    async def close(self) -> None:
        await self.connection.close()


def delivered(queue: str, message: AbstractIncomingMessage) -> Delivered:
    try:
        body = _body.decode(message.body)
    except msgspec.DecodeError:
        body = {}
    reservation = body.get("reservation")
    rid = reservation.get("reservation_id") if isinstance(reservation, dict) else None
    rid = rid or body.get("reservation_id")
    return Delivered(
        queue=queue,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        type=str(body.get("type", "?")),
        event_id=_text(body.get("event_id")),
        reservation_id=_text(rid),
        body=message.body,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["DEAD_LETTER_QUEUE", "EVENTS_EXCHANGE"]
