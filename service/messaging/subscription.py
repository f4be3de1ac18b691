"""Consuming a queue with aiormq's deliveries, on an aio-pika robust channel.

Why not ``queue.consume``: aio-pika wraps every delivery in an ``IncomingMessage``
and runs the callback in a second task of its own, a cost on every message for
nothing the consumer needs (docs/performance.md). Here the callback gets aiormq's
``DeliveredMessage`` in the one task aiormq starts per delivery.

What aio-pika did for us and this class does instead: consume again when the
robust channel comes back (after a channel error or a lost connection; the channel
has then restored its qos, queues and bindings), and when the broker cancels the
consumer (the queue was deleted, say).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from aio_pika.abc import AbstractRobustChannel
from aiormq.abc import AbstractChannel, DeliveredMessage
from aiormq.exceptions import AMQPError
from pamqp.commands import Basic

from service.logging import get_logger

log = get_logger(__name__)
Callback = Callable[[DeliveredMessage], Coroutine[Any, Any, None]]
RECONSUME_PAUSE_S = 1.0


class Subscription:
    """One consumer on ``queue`` while started. Consumes run one at a time (``_lock``)
    and each checks what is there first, so a reopen and a retry after a broker cancel
    racing each other leave one consumer; a consume that completes after ``stop``
    cancels itself, so none is left after it."""

    def __init__(self, channel: AbstractRobustChannel, queue: str, callback: Callback) -> None:
        self.channel = channel
        self.queue = queue
        self.callback = callback
        self._underlay: AbstractChannel | None = None
        self._tag: str | None = None
        self._stopped = True
        self._lock = asyncio.Lock()
        self._retry: asyncio.Task[None] | None = None

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def consumer_tag(self) -> str | None:
        return self._tag

    @property
    def busy(self) -> bool:
        """A consume, or a retry of one, is under way."""
        return self._lock.locked() or (self._retry is not None and not self._retry.done())

    @property
    def consuming(self) -> bool:
        """The broker delivers to this subscription now."""
        underlay = self._underlay
        return underlay is not None and not underlay.is_closed and self._tag is not None

    async def start(self) -> None:
        self._stopped = False
        self.channel.reopen_callbacks.add(self._on_reopen)
        await self._consume()

    async def stop(self) -> None:
        """No new deliveries; those already delivered stay with the caller. A consume
        under way (it may wait for a reconnection) cancels itself when it completes."""
        self._stopped = True
        self.channel.reopen_callbacks.discard(self._on_reopen)
        self._cancel_retry()
        underlay, tag, self._tag = self._underlay, self._tag, None
        if underlay is not None and tag is not None and not underlay.is_closed:
            await self._cancel(underlay, tag)

    async def _consume(self) -> None:
        """Consume on the channel as it is now, unless stopped or already consuming."""
        async with self._lock:
            if self._stopped or self.consuming:
                return
            underlay = await self.channel.get_underlay_channel()
            ok = await underlay.basic_consume(self.queue, self.callback, no_ack=False)
            tag = ok.consumer_tag or ""
            if self.stopped:  # stop() ran while this was under way
                await self._cancel(underlay, tag)
                return
            self._underlay, self._tag = underlay, tag
            underlay.on_consumer_cancel_callbacks.add(self._on_cancelled_by_broker)
        log.info("consuming", queue=self.queue)

    @staticmethod
    async def _cancel(underlay: AbstractChannel, tag: str) -> None:
        try:
            await underlay.basic_cancel(tag)
        except (AMQPError, ConnectionError, RuntimeError) as exc:
            log.warning("consumer_cancel_failed", error=type(exc).__name__)

    async def _on_reopen(self, _channel: Any) -> None:
        """The robust channel is back (qos, queues and bindings restored)."""
        self._cancel_retry()
        try:
            await self._consume()
        except (AMQPError, ConnectionError, RuntimeError) as exc:
            # aio-pika would swallow this silently: say so, and keep trying.
            log.warning("consume_after_reopen_failed", error=type(exc).__name__)
            self._retry_later()

    def _on_cancelled_by_broker(self, frame: Basic.Cancel) -> None:
        if self._stopped or frame.consumer_tag != self._tag:
            return
        log.error("consumer_cancelled_by_broker", queue=self.queue)
        self._tag = None
        self._retry_later()

    def _retry_later(self) -> None:
        self._cancel_retry()
        self._retry = asyncio.create_task(self._consume_again())

    def _cancel_retry(self) -> None:
        if self._retry is not None and self._retry is not asyncio.current_task():
            self._retry.cancel()
        self._retry = None

    async def _consume_again(self) -> None:
        """Until consuming works again, or the channel's own restoration takes over: a
        queue that is gone makes ``basic_consume`` close the channel, whose reopening
        declares the queue again and calls ``_on_reopen``."""
        while not self._stopped and not self.consuming:
            await asyncio.sleep(RECONSUME_PAUSE_S)
            try:
                await self._consume()
            except (AMQPError, ConnectionError, RuntimeError) as exc:
                log.warning("consume_again_failed", error=type(exc).__name__)
