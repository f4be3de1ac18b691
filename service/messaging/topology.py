"""Exchanges, queues and bindings, declared idempotently at start-up.

    inventory.commands (topic) --reservation.* / stock.movements / pickup.*--> queue inventory.commands
    inventory.events   (topic)  <- every event the service publishes
    inventory.dead-letter (topic) --#--> queue inventory.commands.dead-letter

The command queue is a quorum queue: replicated, and with ``x-delivery-limit``
a message that keeps failing is dead-lettered by the broker instead of looping.
Poison messages are dead-lettered by the consumer itself, with the reason in
the ``x-inventory-error`` headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

COMMANDS_EXCHANGE = "inventory.commands"
EVENTS_EXCHANGE = "inventory.events"
DEAD_LETTER_EXCHANGE = "inventory.dead-letter"
COMMANDS_QUEUE = "inventory.commands"
DEAD_LETTER_QUEUE = "inventory.commands.dead-letter"
COMMAND_ROUTING_KEYS = ("reservation.*", "stock.movements", "pickup.*")
DELIVERY_LIMIT = 10


@dataclass(frozen=True, slots=True)
class Topology:
    commands: AbstractExchange
    events: AbstractExchange
    dead_letter: AbstractExchange
    commands_queue: AbstractQueue
    dead_letter_queue: AbstractQueue


async def declare(channel: AbstractChannel) -> Topology:
    topic = aio_pika.ExchangeType.TOPIC
    commands = await channel.declare_exchange(COMMANDS_EXCHANGE, topic, durable=True)
    events = await channel.declare_exchange(EVENTS_EXCHANGE, topic, durable=True)
    dead_letter = await channel.declare_exchange(DEAD_LETTER_EXCHANGE, topic, durable=True)
    quorum: dict[str, Any] = {"x-queue-type": "quorum"}
    dead_letter_queue = await channel.declare_queue(
        DEAD_LETTER_QUEUE, durable=True, arguments=quorum
    )
    await dead_letter_queue.bind(dead_letter, "#")
    commands_queue = await channel.declare_queue(
        COMMANDS_QUEUE,
        durable=True,
        arguments={
            **quorum,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": COMMANDS_QUEUE,
            "x-delivery-limit": DELIVERY_LIMIT,
        },
    )
    for key in COMMAND_ROUTING_KEYS:
        await commands_queue.bind(commands, key)
    return Topology(commands, events, dead_letter, commands_queue, dead_letter_queue)
