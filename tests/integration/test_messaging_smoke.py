"""A reservation by message is confirmed on reply_to and on inventory.events (smoke)."""

from __future__ import annotations

import asyncio

import aio_pika
import msgspec
from aio_pika.abc import AbstractRobustConnection

from service.contracts.stock import PostMovements, Receipt
from service.messaging.worker import Worker
from service.storage.database import Database
from service.usecases.locations import put_location
from service.usecases.stock import post_movements
from tests.helpers import location_in


async def test_a_reservation_message_is_answered_on_reply_to(
    worker: Worker, broker: AbstractRobustConnection, db: Database
) -> None:
    await put_location(db, "ST-A", location_in())
    await post_movements(
        db, PostMovements(movements=[Receipt(sku="S1", location_id="ST-A", quantity=3)]),
        idempotency_key="seed", caller="test", actor="test", max_batch=10,
    )  # fmt: skip
    channel = await broker.channel()
    replies = await channel.declare_queue(exclusive=True)
    exchange = await channel.get_exchange("inventory.commands")
    body = {
        "type": "reservation.create", "message_id": "m-1", "reservation_id": "r-1",
        "location_id": "ST-A", "lines": [{"sku": "S1", "quantity": 2}],
    }  # fmt: skip
    await exchange.publish(
        aio_pika.Message(msgspec.json.encode(body), reply_to=replies.name, correlation_id="c-1"),
        routing_key="reservation.create",
    )
    message = await asyncio.wait_for(_next(replies), timeout=10)
    reply = msgspec.json.decode(message.body)
    assert reply["type"] == "reservation.confirmed"
    assert reply["reservation"]["lines"] == [{"sku": "S1", "quantity": 2, "fulfilled": 0}]
    assert message.correlation_id == "c-1"


async def _next(queue: aio_pika.abc.AbstractQueue) -> aio_pika.abc.AbstractIncomingMessage:
    while True:
        message = await queue.get(fail=False)
        if message is not None:
            await message.ack()
            return message
        await asyncio.sleep(0.05)
