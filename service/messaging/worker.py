"""The worker: command consumer, outbox relay, expiry sweeper and availability
announcer, on one broker connection. ``inventory worker`` runs it alone;
``inventory serve`` runs it in-process when INVENTORY_RUN_WORKERS_IN_PROCESS is on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from aiormq.exceptions import AMQPError

from service.correlation import begin_round
from service.logging import get_logger
from service.messaging.consumer import CommandConsumer
from service.messaging.relay import OutboxRelay
from service.messaging.topology import COMMANDS_QUEUE, DEAD_LETTER_QUEUE, declare
from service.observability import metrics
from service.observability.queues import QueueDepths
from service.observability.scrape import RUNTIME
from service.runtime import Runtime
from service.usecases.commands import MessageCommands
from service.usecases.expiry import announce_availability_changes, expire_due
from service.usecases.pickup_changes import mark_no_shows
from service.usecases.retention import prune_idempotency

log = get_logger(__name__)
AVAILABILITY_CLAIM = 20_000  # change rows turned into events per window (one event per balance)


class Worker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.connection: AbstractRobustConnection | None = None
        self.consumer: CommandConsumer | None = None
        self.relay: OutboxRelay | None = None
        self._relaying: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []  # the sweepers and the announcer

    def broker_state(self) -> str:
        """Readiness of the worker's broker connection: "ok" or what is wrong."""
        if self.connection is None:
            return "waiting for the broker"
        return "ok" if not self.connection.is_closed else "reconnecting"

    async def start(self) -> None:
        """Connect (waiting, with backoff, while the broker does not answer), declare the
        topology, then consume, relay and sweep."""
        rt, settings = self.runtime, self.runtime.settings
        self._watched()
        self.connection = await _connect(settings.amqp_url)
        RUNTIME.queues = QueueDepths(self.connection, (COMMANDS_QUEUE, DEAD_LETTER_QUEUE)).read
        consume_channel = await self.connection.channel(publisher_confirms=True)
        await consume_channel.set_qos(prefetch_count=settings.consumer_prefetch)
        topology = await declare(consume_channel)
        commands = MessageCommands(rt.engine, rt.db, settings)
        self.consumer = CommandConsumer(
            consume_channel, topology, commands=commands, settings=settings
        )
        publish_channel = await self.connection.channel(publisher_confirms=True)
        self.relay = OutboxRelay(
            rt.db, publish_channel, batch=settings.relay_batch, wakeup=rt.outbox_signal
        )
        self._relaying = asyncio.create_task(self.relay.run_forever(), name="outbox-relay")
        self._tasks = [
            asyncio.create_task(
                every(
                    settings.sweep_interval_s,
                    lambda: expire_due(rt.db, rt.engine, settings.sweep_batch),
                    "expiry_sweep",
                    settings.sweep_batch,
                ),
                name="expiry-sweeper",
            ),
            asyncio.create_task(
                every(
                    settings.sweep_interval_s,
                    lambda: mark_no_shows(rt.db, settings.pickup_sweep_batch),
                    "pickup_no_shows",
                    settings.pickup_sweep_batch,
                ),
                name="no-show-sweeper",
            ),
            asyncio.create_task(
                every(
                    settings.availability_event_window_s,
                    lambda: announce_availability_changes(rt.db, AVAILABILITY_CLAIM),
                    "availability_events",
                ),
                name="availability-events",
            ),
        ]
        self._tasks.append(self._idempotency_pruner())
        await self.consumer.start()
        log.info("worker_started")

    def _watched(self) -> None:
        """Up or down, read when metrics are scraped (inventory_component_up)."""
        metrics.COMPONENTS["broker"] = lambda: self.broker_state() == "ok"
        metrics.COMPONENTS["consumer"] = lambda: (
            self.consumer is not None and self.consumer.subscription.consuming
        )

    def _idempotency_pruner(self) -> asyncio.Task[None]:
        """Idempotency records past their retention go, a batch per transaction, at
        once again while a whole batch went (a backlog after an upgrade or a pause)."""
        rt, settings = self.runtime, self.runtime.settings
        retention_s, batch = settings.idempotency_retention_s, settings.sweep_batch
        return asyncio.create_task(
            every(
                settings.sweep_interval_s,
                lambda: prune_idempotency(rt.db, retention_s, batch),
                "idempotency_pruned",
                batch,
            ),
            name="idempotency-pruner",
        )

    async def stop(self) -> None:
        """Graceful: stop consuming, finish in-flight messages, stop the loops (the relay
        after the batch it is publishing), then publish what the last messages committed."""
        RUNTIME.queues = None  # its connection closes below
        if self.consumer is not None:
            await self.consumer.stop()
        for task in self._tasks:
            task.cancel()
        if self.relay is not None:
            await self.relay.stop()
        running = [t for t in (*self._tasks, self._relaying) if t is not None]
        if running:
            _, stuck = await asyncio.wait(running, timeout=10)
            for task in stuck:
                log.warning("worker_task_did_not_stop", task=task.get_name())
                task.cancel()
        if self.relay is not None:  # publish what the last messages committed
            try:
                await self.relay.relay_once()
            except Exception as exc:
                log.warning("final_relay_failed", error=type(exc).__name__)
        if self.connection is not None:
            await self.connection.close()
        log.info("worker_stopped")


async def _connect(url: str) -> AbstractRobustConnection:
    """The robust connection, once the broker answers; one log line when it does not,
    one when it does again."""
    pause, failures = 0.5, 0
    while True:
        try:
            connection = await aio_pika.connect_robust(url, timeout=10)
        except (OSError, TimeoutError, AMQPError) as exc:
            if failures == 0:
                log.warning("broker_unavailable", error=type(exc).__name__, waiting=True)
            failures += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 10.0)
            continue
        if failures:
            log.info("broker_connected", after_attempts=failures + 1)
        return connection


async def every(
    interval_s: float, job: Callable[[], Awaitable[int]], name: str, full: int | None = None
) -> None:
    """Run ``job`` every ``interval_s``; at once again while it returns ``full`` (a
    whole batch, so more is waiting). One line when it starts failing (an outage) and
    one when it runs again, not one per interval."""
    failures = 0
    while True:
        begin_round()  # each round's lines and events carry an id of its own
        try:
            done = await job()
        except Exception as exc:
            metrics.sweep_failed(name)
            if failures == 0:
                log.warning(f"{name}_failed", error=type(exc).__name__, detail=str(exc))
            failures += 1
            await asyncio.sleep(interval_s)
            continue
        metrics.sweep_ran(name, done)
        if failures:
            log.info(f"{name}_recovered", failed_rounds=failures)
            failures = 0
        if done:
            log.info(name, count=done)
        if full is None or done < full:
            await asyncio.sleep(interval_s)
