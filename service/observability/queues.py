"""The broker's own figures for the service's queues (messages ready, consumers), read
when Prometheus scrapes a process that runs the worker.

Why beside the consumer's counters: the dead-letter queue also receives what the broker
dead-letters itself (a command redelivered past the delivery limit), and its depth
outlives a restart; the commands queue's depth and consumers show a backlog or a queue
nobody consumes. Each read is one passive ``queue.declare`` per queue, on a channel of
its own (a failed declare closes its channel: never the consuming one).
"""

from __future__ import annotations

from collections.abc import Sequence

from aio_pika.abc import AbstractChannel, AbstractRobustConnection

Depths = dict[str, tuple[int, int]]  # queue -> (messages ready, consumers)


class QueueDepths:
    def __init__(self, connection: AbstractRobustConnection, queues: Sequence[str]) -> None:
        self.connection = connection
        self.queues = tuple(queues)
        self._channel: AbstractChannel | None = None

    async def read(self) -> Depths:
        if self._channel is None or self._channel.is_closed:
            self._channel = await self.connection.channel()
        underlay = await self._channel.get_underlay_channel()
        found: Depths = {}
        for queue in self.queues:
            declared = await underlay.queue_declare(queue, passive=True)
            found[queue] = (declared.message_count or 0, declared.consumer_count or 0)
        return found
