"""Batched acknowledgements: one ``basic.ack(multiple=True)`` for many messages.

Messages finish out of order (the reservation engine answers a whole batch at
once). A delivery tag may be acked with ``multiple`` only when it and every
earlier tag on the channel are settled, i.e. committed (or already nacked or
dead-lettered). ``AckWindow`` tracks that and says how far a single ack may go.
"""

from __future__ import annotations

import asyncio
from collections import deque

from aiormq.abc import AbstractChannel as Channel
from aiormq.exceptions import AMQPError

from service.logging import get_logger

log = get_logger(__name__)


class AckWindow:
    """Delivery tags in order; ``settle`` returns the tag up to which everything
    may now be acked in one go (None when the oldest is still being worked on)."""

    def __init__(self) -> None:
        self._open: deque[int] = deque()
        self._settled: dict[int, bool] = {}  # tag -> still to be acked (False: nacked already)

    def delivered(self, tag: int) -> None:
        self._open.append(tag)

    def settle(self, tag: int, *, ack: bool = True) -> int | None:
        """``ack=False`` for a tag already nacked on its own: it is skipped, never acked."""
        self._settled[tag] = ack
        upto = None
        while self._open and self._open[0] in self._settled:
            oldest = self._open.popleft()
            if self._settled.pop(oldest):
                upto = oldest
        return upto

    def reset(self) -> None:
        """The channel was reopened: old tags mean nothing any more."""
        self._open.clear()
        self._settled.clear()

    def __len__(self) -> int:
        return len(self._open)


class BatchedAcks:
    """The acks of one consumer: tags enter in delivery order (``delivered``), are
    settled in any order (``settle``), and go out as one ``basic.ack(multiple=True)``
    per burst of settlements, sent once the current loop iteration is over.

    Tags belong to a channel: a delivery from a new (reopened) channel starts a new
    window, and a settlement of a delivery from a channel since closed sends nothing
    (the broker redelivers it; its idempotency record makes that a no-op)."""

    def __init__(self) -> None:
        self._channel: Channel | None = None
        self._window = AckWindow()
        self._upto = 0
        self._task: asyncio.Task[None] | None = None

    def delivered(self, channel: Channel, tag: int) -> None:
        if channel is not self._channel:
            self._channel, self._window, self._upto = channel, AckWindow(), 0
        self._window.delivered(tag)

    def settle(self, channel: Channel, tag: int) -> None:
        if channel is not self._channel:
            return
        upto = self._window.settle(tag)
        if upto is None:
            return
        self._upto = max(self._upto, upto)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._send())

    async def flushed(self, timeout_s: float) -> None:
        """Wait (bounded) for the acks already due to be sent."""
        if self._task is not None:
            await asyncio.wait([self._task], timeout=timeout_s)

    async def _send(self) -> None:
        await asyncio.sleep(0)  # let the rest of this burst settle first
        channel = self._channel
        while self._upto and channel is not None and channel is self._channel:
            upto, self._upto = self._upto, 0
            try:
                await channel.basic_ack(upto, multiple=True)
            except (AMQPError, ConnectionError, RuntimeError) as exc:
                log.warning("ack_failed_will_be_redelivered", error=type(exc).__name__)
                return
