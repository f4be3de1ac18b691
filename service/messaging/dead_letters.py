"""Commands that are not applied and never will be: what is not a command (or not the
command its routing key names) is refused at decoding; a command the consumer gives up
on goes to the dead-letter queue with its reason, and its sender is told.

A command the broker itself dead-letters (redelivered ``DELIVERY_LIMIT`` times without an
ack, for instance a worker that crashes on it each time) reaches the same queue with
the broker's ``x-death`` headers instead of ours, and no reply.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

import aio_pika
import msgspec
from aiormq.abc import DeliveredMessage

from service.contracts.messages import (
    COMMAND_TYPE_BY_ROUTING_KEY,
    Command,
    CommandRejected,
    command_decoder,
    encoder,
)
from service.correlation import current_correlation_id
from service.logging import get_logger
from service.messaging.topology import Topology

log = get_logger(__name__)
# The headers a dead letter carries (inventory dlq reads them); a replay drops the first
# four and keeps the count, so a message dead-lettered again shows how many times.
ERROR_HEADER = "x-inventory-error"
ERROR_HEADERS = (
    ERROR_HEADER,
    "x-inventory-error-detail",
    "x-inventory-failed-at",
    "x-original-routing-key",
)
COUNT_HEADER = "x-inventory-dead-lettered"


class PoisonMessage(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def decode(body: bytes, routing_key: str) -> Command:
    """Raises PoisonMessage naming why the body is not a command, or not the command its
    routing key names (broker permissions may let a publisher use only some keys)."""
    try:
        command = command_decoder.decode(body)
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: test it first
        text = str(exc)
        reason = "unknown_type" if "`$.type`" in text else "invalid_message"
        raise PoisonMessage(reason, text) from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise PoisonMessage("undecodable", str(exc)[:500]) from None
    if COMMAND_TYPE_BY_ROUTING_KEY.get(routing_key) is not type(command):
        named = type(command).__struct_config__.tag
        detail = f"a {named} command under the routing key {routing_key or '(none)'}"
        raise PoisonMessage("routing_key_mismatch", detail)
    return command


class _Properties(Protocol):
    """What a copy keeps of a delivery's AMQP properties (aiormq's and aio-pika's alike)."""

    content_type: str | None
    message_id: str | None
    correlation_id: str | None
    reply_to: str | None


def kept_copy(body: bytes, headers: dict[str, Any], properties: _Properties) -> aio_pika.Message:
    """The same command again, persistent, with ``headers``: what the dead-letter queue
    keeps, and what a replay sends back (its id unchanged, so idempotency holds)."""
    return aio_pika.Message(
        body,
        headers=headers,
        content_type=properties.content_type,
        message_id=properties.message_id,
        correlation_id=properties.correlation_id,
        reply_to=properties.reply_to,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


def count_of(value: object) -> int:
    """A count header's value; 0 when absent or not a number (a foreign header)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class DeadLetters:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology

    async def send(self, message: DeliveredMessage, reason: str, detail: str) -> None:
        """To the dead-letter queue with the reason in headers; the sender, if it named a
        reply_to, is told (``command.rejected``). The caller acks it."""
        properties = message.header.properties
        headers = dict(properties.headers or {})
        headers.update(
            {
                COUNT_HEADER: count_of(headers.get(COUNT_HEADER)) + 1,
                ERROR_HEADER: reason,
                "x-inventory-error-detail": detail[:1000],
                "x-inventory-failed-at": int(time.time()),
                "x-original-routing-key": message.routing_key or "",
            }
        )
        await self.topology.dead_letter.publish(
            kept_copy(message.body, headers, properties),
            routing_key=message.routing_key or "unrouted",
        )
        if properties.reply_to:
            await self._tell_rejected(message, reason, detail)
        log.warning("message_dead_lettered", reason=reason, detail=detail[:200])

    async def _tell_rejected(self, message: DeliveredMessage, reason: str, detail: str) -> None:
        properties = message.header.properties
        # The same reply (and AMQP message_id) every time this message is dead-lettered.
        seed = properties.message_id or hashlib.sha256(message.body).hexdigest()
        reply_id = uuid.uuid5(uuid.NAMESPACE_URL, f"rejected/{seed}/{reason}").hex
        rejected = CommandRejected(
            event_id=reply_id,
            occurred_at=datetime.now(UTC),
            correlation_id=properties.correlation_id,
            message_id=properties.message_id,
            routing_key=message.routing_key or "",
            reason=reason,
            detail=detail[:1000],
        )
        await self.topology.replies.publish(
            aio_pika.Message(
                encoder.encode(rejected),
                content_type="application/json",
                message_id=reply_id,
                correlation_id=current_correlation_id(),  # the message's (correlation.py)
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=str(properties.reply_to),
        )
