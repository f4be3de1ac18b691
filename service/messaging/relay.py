"""The outbox relay: publishes committed events and replies, then deletes them.

Each round claims the oldest rows (``FOR UPDATE SKIP LOCKED``, so relays on
several replicas share the work), publishes them all with publisher confirms
in flight together, and deletes them in the same transaction. A crash after
publishing and before the commit publishes those rows again: delivery is
at-least-once, and every message carries a stable ``message_id`` to dedupe on.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiormq
from aio_pika.abc import AbstractChannel

from service import tracing
from service.logging import get_logger
from service.observability.metrics import OUTBOX_PUBLISHED
from service.storage.database import Database
from service.storage.outbox import OutgoingMessage, StoredMessage
from service.usecases.outbox import publish_pending

log = get_logger(__name__)
PERSISTENT = 2  # AMQP delivery mode: written to disk by the broker


class OutboxRelay:
    def __init__(
        self, db: Database, channel: AbstractChannel, *, batch: int, wakeup: asyncio.Event
    ) -> None:
        if not getattr(channel, "publisher_confirms", False):
            # Without confirms basic_publish returns before the broker has the message,
            # and the outbox rows would be deleted unconfirmed.
            raise ValueError("the outbox relay needs a channel with publisher confirms")
        self.db = db
        self.channel = channel
        self.batch = batch
        self.wakeup = wakeup
        self.published = 0
        self._stopping = False

    async def stop(self) -> None:
        """Finish the batch in flight (cancelled in the middle, its rows would be
        published again by the next relay: duplicates), then stop ``run_forever``."""
        self._stopping = True
        self.wakeup.set()

    async def run_forever(self, idle_s: float = 0.5) -> None:
        failures = 0  # in a row: one line when the relay starts failing, one when it stops
        while not self._stopping:
            self.wakeup.clear()  # before reading: a NOTIFY from now on wakes the next wait
            try:
                sent = await self.relay_once()
            except Exception as exc:
                if failures == 0:
                    log.warning("outbox_relay_failed", error=type(exc).__name__, detail=str(exc))
                failures += 1
                await asyncio.sleep(1.0)
                continue
            if failures:
                log.info("outbox_relay_recovered", failed_rounds=failures)
                failures = 0
            if sent < self.batch and not self._stopping:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                # cancellation that races with the event, and stop() would hang.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(idle_s):
                        await self.wakeup.wait()

    async def relay_once(self) -> int:
        """Publish one batch; returns how many messages were published."""
        sent = await publish_pending(self.db, self._publish, self.batch)
        self.published += sent
        OUTBOX_PUBLISHED.inc(sent)
        return sent

    async def _publish(self, row: StoredMessage) -> None:
        """Straight to the channel underneath aio-pika (what ``Exchange.publish`` calls),
        with the AMQP properties built directly: an ``aio_pika.Message`` per row cost more
        CPU than the publish itself. The channel has publisher confirms (checked in
        __init__): a nack raises DeliveryError and the batch is not deleted. With tracing
        on, a row that kept its writer's traceparent is published in a span of that
        trace, named in the message's ``traceparent`` header."""
        message = row.message
        if not (tracing.ON and message.trace_context):
            await self._send(message, None)
            return
        attributes = {"messaging.system": "rabbitmq", "messaging.message.id": message.message_id}
        name = f"publish {message.routing_key}"
        with tracing.publish_span(name, message.trace_context, attributes) as headers:
            await self._send(message, headers)

    async def _send(self, message: OutgoingMessage, headers: dict[str, str] | None) -> None:
        channel = await self.channel.get_underlay_channel()
        await channel.basic_publish(
            message.payload,
            exchange=message.exchange,
            routing_key=message.routing_key,
            properties=aiormq.spec.Basic.Properties(
                content_type="application/json",
                headers=headers,  # type: ignore[arg-type]
                message_id=message.message_id,
                correlation_id=message.correlation_id,
                delivery_mode=PERSISTENT,
            ),
            mandatory=False,  # an event nobody subscribed to is not an error
        )
