"""Waiting until a step has no effect left in flight, so that every answer, event and
dead letter is written down with the step that caused it.

- Command messages: the consumer has acked or dead-lettered them (its counters).
- The change feed has delivered every notification of the step to the replica: a
  notification of our own, sent after the step, came back (PostgreSQL delivers a
  session's notifications in commit order), and a location reload it started is
  over. Which SKUs memory holds for the next step then follows from the script alone.
- Coalesced availability events: the worker's own announcer is called here (its
  window is set beyond the length of a run, so it never fires by the clock).
- The outbox is empty: the relay has published everything, with publisher confirms.
- If anything went into the outbox since the last step, a marker published after that
  to the reply queue and to ``inventory.events`` came back: a queue is first in,
  first out, so everything published before it has arrived.
- If the consumer dead-lettered anything, the dead-letter queue is drained.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from service.correlation import begin_round
from service.messaging.topology import COMMANDS_EXCHANGE, DEAD_LETTER_QUEUE, EVENTS_EXCHANGE
from service.messaging.worker import AVAILABILITY_CLAIM, Worker
from service.runtime import Runtime
from service.usecases.expiry import announce_availability_changes

Messages = list[AbstractIncomingMessage]
WITHIN_S = 10.0
MARKER = "corpus-marker-"
OUTBOX_STATE = """SELECT NOT EXISTS (SELECT FROM outbox) AS empty,
    pg_sequence_last_value(pg_get_serial_sequence('outbox', 'event_id')) AS last"""


class FeedWatch:
    """Subscribed to a channel of the replica's change feed: which of our own
    notifications came back."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, payload: str) -> None:
        if payload.startswith(MARKER):
            self.seen.add(payload)


class Inbox:
    """A queue of our own; keeps what arrives until a marker takes it."""

    def __init__(self, channel: AbstractChannel, name: str) -> None:
        self.channel = channel
        self.name = name
        self.received: Messages = []

    @classmethod
    async def open(cls, connection: AbstractRobustConnection, bind: str | None = None) -> Inbox:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        if bind is not None:
            await queue.bind(bind, "#")
        inbox = cls(channel, queue.name)
        await queue.consume(inbox._keep, no_ack=True)
        return inbox

    async def _keep(self, message: AbstractIncomingMessage) -> None:
        self.received.append(message)

    def take_until(self, marker: str) -> Messages | None:
        """Everything before ``marker`` (taken away with it), once it is in; else None."""
        for index, message in enumerate(self.received):
            if message.message_id == marker:
                taken, self.received = self.received[:index], self.received[index + 1 :]
                return taken
        return None


@dataclass
class Captured:
    replies: Messages = field(default_factory=list)
    events: Messages = field(default_factory=list)
    dead_letters: Messages = field(default_factory=list)


class Broker:
    """The player's side of RabbitMQ: publishes commands, and catches the replies,
    the events and the dead letters."""

    def __init__(self, runtime: Runtime, feed: FeedWatch, worker: Worker) -> None:
        self.runtime = runtime
        self.feed = feed
        self.worker = worker
        self.markers = 0
        self.last_outbox_id: int | None = None
        self.dead_lettered = 0

    async def open(self, connection: AbstractRobustConnection) -> None:
        self.replies = await Inbox.open(connection)
        self.events = await Inbox.open(connection, bind=EVENTS_EXCHANGE)
        self.channel = await connection.channel(publisher_confirms=True)
        self.commands = await self.channel.get_exchange(COMMANDS_EXCHANGE)
        self.events_exchange = await self.channel.get_exchange(EVENTS_EXCHANGE)
        self.dead_letter_queue = await self.channel.get_queue(DEAD_LETTER_QUEUE)

    async def close(self) -> None:
        for channel in (self.replies.channel, self.events.channel, self.channel):
            await channel.close()

    async def publish(self, message: aio_pika.Message, routing_key: str, copies: int) -> None:
        """Publish ``copies`` of the command and wait until the consumer settled them."""
        consumer = self.worker.consumer
        assert consumer is not None
        before = consumer.handled + consumer.dead_lettered
        for _ in range(copies):
            await self.commands.publish(message, routing_key=routing_key)
        await until(
            lambda: consumer.handled + consumer.dead_lettered >= before + copies,
            f"the consumer to settle {copies} message(s) sent to {routing_key!r}",
        )

    async def _announce(self) -> int:
        """One round of the worker's announcer, as its loop runs it: with a correlation
        id of its own (in the task ``gather`` gives it), not the last request's."""
        begin_round()
        return await announce_availability_changes(self.runtime.db, AVAILABILITY_CLAIM)

    async def settle(self) -> Captured:
        self.markers += 1
        marker = f"{MARKER}{self.markers}"
        await asyncio.gather(
            self._feed_settled(marker),
            self._announce(),
        )
        captured = Captured()
        last_outbox_id = await self._outbox_emptied()
        if last_outbox_id != self.last_outbox_id:
            self.last_outbox_id = last_outbox_id
            captured.replies, captured.events = await self._markers_back(marker)
        consumer = self.worker.consumer
        assert consumer is not None
        if consumer.dead_lettered != self.dead_lettered:
            self.dead_lettered = consumer.dead_lettered
            captured.dead_letters = await self._dead_letters()
        return captured

    async def _feed_settled(self, marker: str) -> None:
        await self.runtime.pool.execute("SELECT pg_notify('inventory_balances', $1)", marker)
        await until(lambda: marker in self.feed.seen, "the change feed to deliver our marker")
        reload = self.runtime.read_model.locations._reload
        if reload is not None:
            await asyncio.wait([reload], timeout=WITHIN_S)

    async def _outbox_emptied(self) -> int | None:
        """The id of the last message ever put in the outbox, once it is empty."""
        found: list[int | None] = []

        async def empty() -> bool:
            row = await self.runtime.pool.fetchrow(OUTBOX_STATE)
            assert row is not None
            found[:] = [row["last"]]
            return bool(row["empty"])

        await until_async(empty, "the relay to empty the outbox")
        return found[0]

    async def _markers_back(self, marker: str) -> tuple[Messages, Messages]:
        message = aio_pika.Message(b"", message_id=marker)
        await asyncio.gather(
            self.channel.default_exchange.publish(message, routing_key=self.replies.name),
            self.events_exchange.publish(message, routing_key="corpus.marker"),
        )
        found: dict[str, Messages] = {}

        def back() -> bool:
            for name, inbox in (("replies", self.replies), ("events", self.events)):
                if name not in found and (taken := inbox.take_until(marker)) is not None:
                    found[name] = taken
            return len(found) == 2

        await until(back, "our markers to come back")
        return found["replies"], found["events"]

    async def _dead_letters(self) -> Messages:
        taken = []
        while (letter := await self.dead_letter_queue.get(no_ack=True, fail=False)) is not None:
            taken.append(letter)
        return taken


async def until(probe: Callable[[], bool], what: str) -> None:
    async def probe_async() -> bool:
        return probe()

    await until_async(probe_async, what)


async def until_async(probe: Callable[[], Awaitable[bool]], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WITHIN_S
    while not await probe():
        assert loop.time() < deadline, f"timed out after {WITHIN_S} s waiting for {what}"
        await asyncio.sleep(0.001)
