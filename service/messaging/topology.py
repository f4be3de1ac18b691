"""Exchanges, queues and bindings, declared idempotently at start-up.

    inventory.commands (topic) --reservation.* / stock.movements / pickup.*--> queue inventory.commands
    inventory.events   (topic)  <- every event the service publishes
    inventory.dead-letter (topic) --#--> queue inventory.commands.dead-letter
    inventory.commands.unroutable (fanout) --> queue inventory.commands.unroutable

A command published under a routing key that no binding takes goes to the alternate
exchange of inventory.commands, so an operator sees it in inventory.commands.unroutable.
The alternate exchange is set by a broker policy (``ALTERNATE_EXCHANGE_POLICY``; applied by
``inventory broker-policy`` or by the operator), not by an argument of the declaration: a
broker that has the exchange already needs no redeclaration.

The command queue is a quorum queue: replicated, and with ``x-delivery-limit``
a message that keeps failing is dead-lettered by the broker instead of looping.
Poison messages are dead-lettered by the consumer itself, with the reason in
the ``x-inventory-error`` headers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

COMMANDS_EXCHANGE = "inventory.commands"
EVENTS_EXCHANGE = "inventory.events"
DEAD_LETTER_EXCHANGE = "inventory.dead-letter"
COMMANDS_QUEUE = "inventory.commands"
DEAD_LETTER_QUEUE = "inventory.commands.dead-letter"
UNROUTABLE_EXCHANGE = UNROUTABLE_QUEUE = "inventory.commands.unroutable"
ALTERNATE_EXCHANGE_POLICY: dict[str, object] = {
    "name": "inventory-commands-unroutable",
    "pattern": rf"^{re.escape(COMMANDS_EXCHANGE)}$",
    "definition": {"alternate-exchange": UNROUTABLE_EXCHANGE},
    "apply-to": "exchanges",
}
COMMAND_ROUTING_KEYS = ("reservation.*", "stock.movements", "pickup.*")
DELIVERY_LIMIT = 10


def policy_command(vhost: str) -> list[str]:
    """The ``rabbitmqctl`` command that sets ``ALTERNATE_EXCHANGE_POLICY`` on ``vhost``."""
    policy = ALTERNATE_EXCHANGE_POLICY
    return [
        "rabbitmqctl",
        "set_policy",
        "-p",
        vhost,
        "--apply-to",
        str(policy["apply-to"]),
        str(policy["name"]),
        str(policy["pattern"]),
        json.dumps(policy["definition"]),
    ]


@dataclass(frozen=True, slots=True)
class Topology:
    commands: AbstractExchange
    events: AbstractExchange
    dead_letter: AbstractExchange
    commands_queue: AbstractQueue
    dead_letter_queue: AbstractQueue
    replies: AbstractExchange  # the default exchange: a reply goes to its reply_to queue


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
    unroutable = await channel.declare_exchange(
        UNROUTABLE_EXCHANGE, aio_pika.ExchangeType.FANOUT, durable=True
    )
    unroutable_queue = await channel.declare_queue(UNROUTABLE_QUEUE, durable=True, arguments=quorum)
    await unroutable_queue.bind(unroutable)
    return Topology(
        commands, events, dead_letter, commands_queue, dead_letter_queue, channel.default_exchange
    )
