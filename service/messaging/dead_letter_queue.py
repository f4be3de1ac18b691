"""The dead-letter queue as the operator sees it (``inventory dlq``): read every dead
letter without losing one, replay some through the normal consumer, purge others.

How it reads without losing or reordering: one channel takes every message with
``basic.get`` and *holds them unacked* while the command runs. Nothing is removed by
reading: only a message that is replayed (after the broker confirmed its republish)
or purged is acked; when the channel closes, the broker returns every message still
held, in the order they were taken (tests/integration/test_dlq_cli.py lists twice and
purges from the middle to check it). Effects of reading, and why they do not matter here:

- each message is marked ``redelivered`` and its ``x-delivery-count`` grows; the
  dead-letter queue has no delivery limit and no consumer that reads either;
- while a command runs, the messages it holds are invisible to another ``inventory
  dlq`` (it sees fewer, or none): run one at a time;
- a command that dies (killed, connection lost) returns everything it held, as if it
  had not run, except what it had already replayed or purged.

A replay republishes the message, body and properties unchanged, to the command
exchange under its original routing key, so it goes through the normal consumer and
its idempotency: a message whose id was applied before changes nothing. If the
command dies between the broker's confirm and the ack, the message is both replayed
and still dead-lettered; replaying it again changes nothing either.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
import msgspec
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from service.messaging.dead_letters import (
    COUNT_HEADER,
    ERROR_HEADER,
    ERROR_HEADERS,
    count_of,
    kept_copy,
)
from service.messaging.topology import Topology, declare

READ_LIMIT = 100_000  # dead letters held at once; more stay in the queue, unseen


class _Named(msgspec.Struct):
    """What a dead letter's body says it is, if it is JSON with these fields."""

    type: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetterInfo:
    message_id: str  # the body's, else the AMQP property, else sha256:<first 16 hex of body>
    command: str  # the body's "type", or what keeps it from having one
    reason: str  # the consumer's x-inventory-error, or broker:<x-death reason>
    detail: str
    dead_lettered_at: datetime | None
    times: int  # how many times it has been dead-lettered
    routing_key: str  # the command's own, to replay it under


def describe(
    body: bytes, headers: Mapping[str, Any], amqp_message_id: str | None, routing_key: str
) -> DeadLetterInfo:
    """Who a dead letter is and why it is here, from our headers or the broker's x-death."""
    try:
        named = msgspec.json.decode(body, type=_Named)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        named = _Named(type="(not a command)")
    message_id = named.message_id or amqp_message_id or _body_id(body)
    deaths = [d for d in headers.get("x-death") or [] if isinstance(d, Mapping)]
    ours = headers.get(ERROR_HEADER)
    times = count_of(headers.get(COUNT_HEADER)) or (1 if ours else 0)
    times += sum(count_of(d.get("count")) for d in deaths)
    if ours is not None:
        failed_at = headers.get("x-inventory-failed-at")
        when = datetime.fromtimestamp(int(failed_at), UTC) if failed_at else None
        detail = str(headers.get("x-inventory-error-detail") or "")
        original = str(headers.get("x-original-routing-key") or routing_key)
        return DeadLetterInfo(
            message_id, named.type or "?", str(ours), detail, when, times, original
        )
    death: Mapping[str, Any] = deaths[0] if deaths else {}
    keys = death.get("routing-keys") or [routing_key]
    stamp = death.get("time")
    when = stamp.astimezone(UTC) if isinstance(stamp, datetime) else None
    detail = f"dead-lettered by the broker from {death.get('queue', '?')}"
    reason = f"broker:{death.get('reason', 'unknown')}"
    return DeadLetterInfo(message_id, named.type or "?", reason, detail, when, times, str(keys[0]))


def _body_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    info: DeadLetterInfo
    message: AbstractIncomingMessage


class HeldDeadLetters:
    """Every dead letter, held unacked on one channel (see the module's docstring)."""

    def __init__(self, channel: AbstractChannel, topology: Topology) -> None:
        self.channel = channel
        self.topology = topology
        self.letters: list[DeadLetter] = []

    async def take_all(self, limit: int = READ_LIMIT) -> None:
        while len(self.letters) < limit:
            message = await self.topology.dead_letter_queue.get(no_ack=False, fail=False)
            if message is None:
                return
            info = describe(
                message.body, message.headers, message.message_id, message.routing_key or ""
            )
            self.letters.append(DeadLetter(info, message))

    def named(self, message_ids: Iterable[str]) -> tuple[list[DeadLetter], list[str]]:
        """The held letters with these ids (every copy, in queue order), and the ids that
        name none."""
        wanted = set(message_ids)
        found = [letter for letter in self.letters if letter.info.message_id in wanted]
        missing = sorted(wanted - {letter.info.message_id for letter in found})
        return found, missing

    async def replay(self, letter: DeadLetter) -> None:
        """Republish to the command exchange and wait for the broker's confirm; only then
        remove it from the dead-letter queue."""
        message = letter.message
        # The count and the broker's x-death stay: each counts its own dead-letterings.
        headers = {k: v for k, v in message.headers.items() if k not in ERROR_HEADERS}
        await self.topology.commands.publish(
            kept_copy(message.body, headers, message),
            routing_key=letter.info.routing_key,
            mandatory=True,  # an unroutable republish is an error, never a silent loss
        )
        await message.ack()
        self.letters.remove(letter)

    async def purge(self, letter: DeadLetter) -> None:
        await letter.message.ack()
        self.letters.remove(letter)


@asynccontextmanager
async def held_dead_letters(
    amqp_url: str, limit: int = READ_LIMIT
) -> AsyncIterator[HeldDeadLetters]:
    """The dead letters, held until the block ends; then every one not replayed or
    purged goes back to the queue, in its order."""
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel(publisher_confirms=True)
        held = HeldDeadLetters(channel, await declare(channel))
        await held.take_all(limit)
        yield held
        await channel.close()  # returns what is still held
    finally:
        await connection.close()
