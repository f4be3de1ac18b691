"""The command consumer: decode, apply through the use cases, ack after commit.

- Manual acks, sent only after the command's transaction committed. A crash
  in between means a redelivery, which the idempotency record turns into a no-op
  (and the same reply).
- Poison (undecodable, unknown type, invalid content): republished to the
  dead-letter exchange with the reason in headers, then acked; consuming goes on.
- Business refusals (no stock, unknown location) are outcomes: acked, answered.
- Transient faults (database down, deadlock): retried with backoff, the message
  held unacked, for as long as the fault lasts; an outage never dead-letters a
  valid command. An unexpected error is retried a few times, then dead-lettered
  with its reason (the quorum queue's delivery limit is a last safety net).
Many messages are in flight at once (prefetch), so the reservation engine can
put a burst on one SKU into one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aio_pika
import msgspec
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from service.contracts.messages import (
    Command,
    PickupBookMessage,
    PickupCancelMessage,
    command_decoder,
)
from service.domain.errors import InvalidInput
from service.logging import get_logger
from service.messaging.acks import AckWindow
from service.messaging.topology import Topology
from service.settings import Settings
from service.storage.database import TRANSIENT_ERRORS, Database
from service.usecases.commands import Delivery, handle_command
from service.usecases.reservation_engine import ReservationEngine

log = get_logger(__name__)
TRANSIENT_FIRST_PAUSE_S = 0.5
TRANSIENT_MAX_PAUSE_S = 30.0
UNEXPECTED_FAILURES = 3


class PoisonMessage(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def decode(body: bytes) -> Command:
    """Raises PoisonMessage naming why the body is not a command."""
    try:
        return command_decoder.decode(body)
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: test it first
        text = str(exc)
        reason = "unknown_type" if "`$.type`" in text else "invalid_message"
        raise PoisonMessage(reason, text) from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise PoisonMessage("undecodable", str(exc)[:500]) from None


def _order_key(command: Command) -> str | None:
    """Commands for one pickup are applied in the order they arrived (a cancel sent
    right after its booking must find it). Reservation steps keep their order in
    the engine's queue; other commands need none."""
    if isinstance(command, PickupBookMessage | PickupCancelMessage):
        return f"pickup:{command.pickup_id}"
    return None


class KeyedLocks:
    """One FIFO lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class CommandConsumer:
    def __init__(
        self, channel: AbstractChannel, topology: Topology, *, engine: ReservationEngine,
        db: Database, settings: Settings,
    ) -> None:  # fmt: skip
        self.channel = channel
        self.topology = topology
        self.engine = engine
        self.db = db
        self.settings = settings
        self._tag: str | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(settings.consumer_concurrency)
        self._acks = AckWindow()
        self._in_order = KeyedLocks()
        self._ack_channel: object = None  # the channel the window's tags belong to
        self._ack_upto = 0
        self._ack_task: asyncio.Task[None] | None = None
        self.handled = 0
        self.dead_lettered = 0

    async def start(self) -> None:
        self._tag = await self.topology.commands_queue.consume(self._on_message)
        log.info("consumer_started", queue=self.topology.commands_queue.name)

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop taking messages, let the ones in flight finish (unacked ones are redelivered)."""
        if self._tag is not None:
            await self.topology.commands_queue.cancel(self._tag)
            self._tag = None
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=grace_s)
        if self._ack_task is not None:
            await asyncio.wait([self._ack_task], timeout=grace_s)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        """Runs in the task aio-pika starts for each delivery (no task of our own: one
        task fewer per message). A channel that closes cancels these tasks: a message
        cancelled mid-way is not acked, so the broker redelivers it and its idempotency
        record (committed or not) makes the second delivery give the one effect and answer."""
        self._track(message)  # before any await: tags enter the window in delivery order
        async with self._slots:
            task = asyncio.current_task()
            assert task is not None
            self._in_flight.add(task)
            try:
                await self._handle(message)
            finally:
                self._in_flight.discard(task)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        # Each delivery is its own task with its own copy of the context: bound once,
        # never reset (bound_contextvars cost 5 % of a drain).
        structlog.contextvars.bind_contextvars(routing_key=message.routing_key)
        try:
            command = decode(message.body)
        except PoisonMessage as poison:
            await self._dead_letter(message, poison.reason, poison.detail)
            return
        structlog.contextvars.bind_contextvars(message_id=command.message_id)
        key = _order_key(command)
        if key is None:
            await self._apply(message, command)
            return
        async with self._in_order.hold(key):
            await self._apply(message, command)

    async def _apply(self, message: AbstractIncomingMessage, command: Command) -> None:
        """Apply until it commits. A transient fault (database down, deadlock) is retried
        with backoff for as long as it lasts, holding the message unacked: it is never
        dead-lettered for an outage. An unexpected error is retried a few times, then
        dead-lettered with its reason so that it cannot block the queue."""
        delivery = Delivery(message.reply_to, message.correlation_id)
        delay, failures = TRANSIENT_FIRST_PAUSE_S, 0
        while True:
            try:
                await handle_command(
                    command, delivery, engine=self.engine, db=self.db, settings=self.settings
                )
            except InvalidInput as invalid:
                await self._dead_letter(message, invalid.code, f"{invalid.field}: {invalid.detail}")
                return
            except TRANSIENT_ERRORS as exc:
                log.warning(
                    "command_waiting_for_database", error=type(exc).__name__, retry_in_s=delay
                )
            except Exception as exc:
                failures += 1
                log.exception("command_failed", error=type(exc).__name__, attempt=failures)
                if failures >= UNEXPECTED_FAILURES:
                    await self._dead_letter(
                        message, "handler_error", f"{type(exc).__name__}: {exc}"
                    )
                    return
            else:
                await self._settle(message)
                self.handled += 1
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, TRANSIENT_MAX_PAUSE_S)

    # -- acknowledgements: after commit, batched ------------------------------

    def _track(self, message: AbstractIncomingMessage) -> None:
        if message.channel is not self._ack_channel:  # a new (or reopened) channel
            self._ack_channel, self._acks, self._ack_upto = message.channel, AckWindow(), 0
        self._acks.delivered(message.delivery_tag or 0)

    async def _settle(self, message: AbstractIncomingMessage, *, ack: bool = True) -> None:
        """The message is committed (or dead-lettered, or nacked on its own): ack it,
        together with every earlier one already settled, in one ``multiple`` ack sent
        once this burst of settlements is over. A message of a channel that has since
        been closed is not acked: the broker redelivers it, and the idempotency record
        turns that into a no-op."""
        if message.channel is not self._ack_channel:
            return
        upto = self._acks.settle(message.delivery_tag or 0, ack=ack)
        if upto is None:
            return
        self._ack_upto = max(self._ack_upto, upto)
        if self._ack_task is None or self._ack_task.done():
            self._ack_task = asyncio.create_task(self._send_acks())

    async def _send_acks(self) -> None:
        await asyncio.sleep(0)  # let the rest of this batch settle first
        channel = self._ack_channel
        while self._ack_upto and channel is self._ack_channel:
            upto, self._ack_upto = self._ack_upto, 0
            try:
                await channel.basic_ack(upto, multiple=True)  # type: ignore[attr-defined]
            except (aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError) as exc:
                log.warning("ack_failed_will_be_redelivered", error=type(exc).__name__)
                return

    async def _dead_letter(
        self, message: AbstractIncomingMessage, reason: str, detail: str
    ) -> None:
        headers = dict(message.headers or {})
        headers.update(
            {
                "x-inventory-error": reason,
                "x-inventory-error-detail": detail[:1000],
                "x-inventory-failed-at": int(time.time()),
                "x-original-routing-key": message.routing_key or "",
            }
        )
        await self.topology.dead_letter.publish(
            aio_pika.Message(
                message.body,
                headers=headers,
                content_type=message.content_type,
                message_id=message.message_id,
                correlation_id=message.correlation_id,
                reply_to=message.reply_to,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=message.routing_key or "unrouted",
        )
        await self._settle(message)
        self.dead_lettered += 1
        log.warning("message_dead_lettered", reason=reason, detail=detail[:200])
