"""The command consumer: decode, apply through the one dispatch, ack after commit.

- Manual acks, sent only after the command's transaction committed. A crash
  in between means a redelivery, which the message's idempotency record turns into
  a no-op (and the same reply).
- Poison (undecodable, unknown type, invalid content): republished to the
  dead-letter exchange with the reason in headers, then acked; consuming goes on.
- Business refusals (no stock, unknown location) are outcomes: acked, answered.
- Transient faults (database down, deadlock): retried with backoff, the message
  held unacked, for as long as the fault lasts; an outage never dead-letters a
  valid command. An unexpected error is retried a few times, then dead-lettered
  with its reason (the quorum queue's delivery limit is a last safety net).
Every attempt, first or retry, goes through ``MessageCommands.start``. Many messages
are in flight at once (prefetch), so the reservation engine can put a burst on one
SKU into one transaction: a reservation step's first attempt costs no task or await
of its own (its delivery's task hands it to the engine and ends; the engine's answer
settles it). Other commands are handled, one task each, to the end.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import structlog
from aio_pika.abc import AbstractRobustChannel
from aiormq.abc import DeliveredMessage

from service.contracts.messages import (
    COMMAND_TYPE_BY_ROUTING_KEY,
    Command,
    PickupBookMessage,
    PickupCancelMessage,
    ReservationCancelMessage,
    ReservationCreateMessage,
    ReservationFulfilMessage,
)
from service.domain.errors import InvalidInput
from service.domain.reservations import Outcome
from service.logging import get_logger
from service.messaging.acks import BatchedAcks
from service.messaging.dead_letters import DeadLetters, PoisonMessage, decode
from service.messaging.keyed_locks import KeyedLocks
from service.messaging.subscription import Subscription
from service.messaging.topology import Topology
from service.messaging.traced_deliveries import with_story
from service.observability import metrics
from service.settings import Settings
from service.storage.database import is_transient
from service.storage.outage import DatabaseUnavailable
from service.usecases.commands import MessageCommands
from service.usecases.message_idempotency import Delivery

log = get_logger(__name__)
TRANSIENT_FIRST_PAUSE_S = 0.5
TRANSIENT_MAX_PAUSE_S = 30.0
UNEXPECTED_FAILURES = 3
RESERVATION_MESSAGES = (
    ReservationCreateMessage,
    ReservationCancelMessage,
    ReservationFulfilMessage,
)


def _order_key(command: Command) -> str | None:
    """Commands for one pickup are applied in the order they arrived (a cancel sent
    right after its booking must find it). Reservation steps keep their order in
    the engine's queue; other commands need none."""
    if isinstance(command, PickupBookMessage | PickupCancelMessage):
        return f"pickup:{command.pickup_id}"
    return None


class CommandConsumer:
    def __init__(
        self,
        channel: AbstractRobustChannel,
        topology: Topology,
        *,
        commands: MessageCommands,
        settings: Settings,
    ) -> None:
        self.topology = topology
        self.commands = commands
        self.dead_letters = DeadLetters(topology)
        self.subscription = Subscription(
            channel, topology.commands_queue.name, with_story(self._on_delivery)
        )
        # Reservation steps waiting for the engine, and tasks handling other commands.
        self._in_flight: set[asyncio.Future[Any]] = set()
        self._slots = asyncio.Semaphore(settings.consumer_concurrency)
        self._acks = BatchedAcks()
        self._in_order = KeyedLocks()
        self.handled = 0
        self.dead_lettered = 0
        self.waits_for_database = 0  # attempts refused by a transient fault, retried later

    async def start(self) -> None:
        await self.subscription.start()
        log.info("consumer_started", queue=self.topology.commands_queue.name)

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop taking messages, let the ones in flight finish (unacked ones are redelivered)."""
        await self.subscription.stop()
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=grace_s)
        await self._acks.flushed(grace_s)

    async def _on_delivery(self, message: DeliveredMessage) -> None:
        """Runs in the task aiormq starts for each delivery. A channel that closes
        cancels these tasks: a message cancelled mid-way is not acked, so the broker
        redelivers it and its idempotency record (committed or not) makes the second
        delivery give the one effect and answer."""
        # Before any await: tags enter the ack window in delivery order.
        self._acks.delivered(message.channel, message.delivery_tag or 0)
        metrics.message_received(_command_name(message.routing_key))
        try:
            command = decode(message.body, message.routing_key or "")
        except PoisonMessage as poison:
            await self._dead_letter(message, poison.reason, poison.detail)
            return
        if isinstance(command, RESERVATION_MESSAGES):
            await self._hand_to_engine(message, command)
            return
        async with self._slots:
            task = asyncio.current_task()
            assert task is not None
            self._in_flight.add(task)
            try:
                await self._handle(message, command)
            finally:
                self._in_flight.discard(task)

    async def _hand_to_engine(self, message: DeliveredMessage, command: Command) -> None:
        """A reservation step's first attempt: queued for the engine, settled by its
        answer (``_decided``) without a task or await of its own."""
        try:
            decision = self.commands.start(command, delivery_of(message))
        except InvalidInput as invalid:
            await self._dead_letter(message, invalid.code, f"{invalid.field}: {invalid.detail}")
            return
        assert isinstance(decision, asyncio.Future)
        self._in_flight.add(decision)
        decision.add_done_callback(functools.partial(self._decided, message, command))

    def _decided(
        self, message: DeliveredMessage, command: Command, decision: asyncio.Future[Outcome]
    ) -> None:
        """The engine committed a reservation step (ack it), or failed (retry it as any
        command is retried). A cancelled decision is left unacked."""
        self._in_flight.discard(decision)
        if decision.cancelled():
            return
        error = decision.exception()
        if error is None:
            self._settled(message)
            return
        retry = asyncio.create_task(self._until_committed(message, command, error))
        self._in_flight.add(retry)
        retry.add_done_callback(self._in_flight.discard)

    async def _handle(self, message: DeliveredMessage, command: Command) -> None:
        # Each delivery is its own task with its own copy of the context: bound once,
        # never reset.
        structlog.contextvars.bind_contextvars(routing_key=message.routing_key)
        key = _order_key(command)
        if key is None:
            await self._until_committed(message, command)
            return
        async with self._in_order.hold(key):
            await self._until_committed(message, command)

    async def _until_committed(
        self, message: DeliveredMessage, command: Command, error: BaseException | None = None
    ) -> None:
        """Apply until it commits (``error``: the first attempt already failed so). A
        transient fault (database down, deadlock) is retried with backoff for as long
        as it lasts, holding the message unacked: it is never dead-lettered for an
        outage. An unexpected error is retried a few times, then dead-lettered with its
        reason so that it cannot block the queue."""
        structlog.contextvars.bind_contextvars(message_id=command.message_id)
        pause, failures = TRANSIENT_FIRST_PAUSE_S, 0
        while True:
            if error is None:
                error = await self._attempt(message, command)
                if error is None:
                    self._settled(message)
                    return
            if isinstance(error, InvalidInput):
                await self._dead_letter(message, error.code, f"{error.field}: {error.detail}")
                return
            if not is_transient(error):
                failures += 1
                log.error(
                    "command_failed", error=type(error).__name__, attempt=failures, exc_info=error
                )
                if failures >= UNEXPECTED_FAILURES:
                    detail = f"{type(error).__name__}: {error}"
                    await self._dead_letter(message, "handler_error", detail)
                    return
                metrics.CONSUMER_RETRIES.labels("unexpected").inc()
            else:
                self.waits_for_database += 1
                metrics.CONSUMER_RETRIES.labels("transient").inc()
                if not isinstance(error, DatabaseUnavailable):  # an outage is logged once
                    log.warning(
                        "command_waiting_for_database",
                        error=type(error).__name__,
                        retry_in_s=pause,
                    )
            error = None
            await asyncio.sleep(pause)
            pause = min(pause * 2, TRANSIENT_MAX_PAUSE_S)

    async def _attempt(self, message: DeliveredMessage, command: Command) -> Exception | None:
        """One attempt through the one dispatch; the failure, if it failed."""
        try:
            await self.commands.start(command, delivery_of(message))
        except Exception as exc:
            return exc
        return None

    def _settled(self, message: DeliveredMessage) -> None:
        self._acks.settle(message.channel, message.delivery_tag or 0)
        self.handled += 1
        metrics.message_finished("applied")

    async def _dead_letter(self, message: DeliveredMessage, reason: str, detail: str) -> None:
        await self.dead_letters.send(message, reason, detail)
        self._acks.settle(message.channel, message.delivery_tag or 0)
        self.dead_lettered += 1
        metrics.message_dead_lettered(reason)


def _command_name(routing_key: str | None) -> str:
    """The routing key when it names a command (a bounded label), else "unknown"."""
    return routing_key if routing_key in COMMAND_TYPE_BY_ROUTING_KEY else "unknown"


def delivery_of(message: DeliveredMessage) -> Delivery:
    properties = message.header.properties
    return Delivery(properties.reply_to, properties.correlation_id)
