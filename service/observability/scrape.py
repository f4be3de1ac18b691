"""What is read when Prometheus scrapes: states rather than events, so nothing on the
hot paths updates them (the outbox backlog, the availability cache, the change feed,
the database pool, the worker's parts); and the exposition itself.

The outbox backlog is the only figure that costs a query: it is read at most once per
``BACKLOG_MAX_AGE_S`` whatever the scrape rate, with a deadline, so scrapes cannot load
the database; while the database does not answer, the backlog series are absent
rather than stale.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from service.logging import get_logger
from service.observability.metrics import COMPONENTS
from service.storage.outbox import Backlog
from service.usecases.outbox import outbox_backlog

if TYPE_CHECKING:
    from service.runtime import Runtime

log = get_logger(__name__)
BACKLOG_MAX_AGE_S = 5.0
BACKLOG_DEADLINE_S = 2.0


class RuntimeCollector:
    """The scrape-time gauges of the process's running service."""

    def __init__(self) -> None:
        self.runtime: Runtime | None = None
        self._backlog: Backlog | None = None
        self._read_at = -BACKLOG_MAX_AGE_S
        # Set by the worker, where this process runs one (queues.py): queue -> depths.
        self.queues: Callable[[], Awaitable[dict[str, tuple[int, int]]]] | None = None
        self._depths: dict[str, tuple[int, int]] = {}

    async def refresh(self, runtime: Runtime) -> None:
        """Read what costs a query, unless it was read less than BACKLOG_MAX_AGE_S ago."""
        if runtime is not self.runtime:
            self.runtime, self._backlog, self._read_at = runtime, None, -BACKLOG_MAX_AGE_S
        now = time.monotonic()
        if now - self._read_at < BACKLOG_MAX_AGE_S:
            return
        self._read_at = now  # before the awaits: scrapes meanwhile use what is there
        try:
            async with asyncio.timeout(BACKLOG_DEADLINE_S):
                self._backlog = await outbox_backlog(runtime.db)
        except Exception as exc:  # the database down or slow: no backlog figures
            self._backlog = None
            log.warning("metrics_backlog_unread", error=type(exc).__name__)
        await self._read_queues()

    async def _read_queues(self) -> None:
        self._depths = {}
        if self.queues is None:
            return
        try:
            async with asyncio.timeout(BACKLOG_DEADLINE_S):
                self._depths = await self.queues()
        except Exception as exc:  # the broker down or slow: no queue figures
            log.warning("metrics_queues_unread", error=type(exc).__name__)

    def collect(self) -> Iterator[Metric]:
        runtime = self.runtime
        if runtime is not None:
            yield from _outbox(self._backlog)
            yield from _queues(self._depths)
            yield from _read_model(runtime)
            yield from _pool(runtime)
        up = GaugeMetricFamily(
            "inventory_component_up",
            "Parts of the worker: broker (its connection is open), consumer (it consumes "
            "the commands queue); 1 up, 0 down.",
            labels=["component"],
        )
        for name, is_up in sorted(COMPONENTS.items()):
            up.add_metric([name], 1.0 if is_up() else 0.0)
        yield up

    def describe(self) -> Iterator[Metric]:
        return iter(())  # its families depend on the runtime; none clash with others


def _outbox(backlog: Backlog | None) -> Iterator[Metric]:
    if backlog is None:
        return
    waiting = GaugeMetricFamily(
        "inventory_outbox_backlog",
        "Events and replies committed and not yet published, by kind (event, reply).",
        labels=["kind"],
    )
    waiting.add_metric(["event"], backlog.events)
    waiting.add_metric(["reply"], backlog.replies)
    yield waiting
    age = 0.0 if backlog.oldest is None else (datetime.now(UTC) - backlog.oldest).total_seconds()
    yield GaugeMetricFamily(
        "inventory_outbox_oldest_age_seconds",
        "Age of the oldest unpublished outbox row (0 when the outbox is empty).",
        value=max(age, 0.0),
    )


def _queues(depths: dict[str, tuple[int, int]]) -> Iterator[Metric]:
    if not depths:
        return
    ready = GaugeMetricFamily(
        "inventory_queue_messages",
        "Messages ready in the service's queues (inventory.commands, its dead-letter queue), "
        "as the broker counts them; read by a process that runs the worker.",
        labels=["queue"],
    )
    consumers = GaugeMetricFamily(
        "inventory_queue_consumers",
        "Consumers of those queues, every worker's included, as the broker counts them.",
        labels=["queue"],
    )
    for queue, (messages, consuming) in sorted(depths.items()):
        ready.add_metric([queue], messages)
        consumers.add_metric([queue], consuming)
    yield ready
    yield consumers


def _read_model(runtime: Runtime) -> Iterator[Metric]:
    cache = runtime.read_model.balances
    yield GaugeMetricFamily(
        "inventory_availability_cache_skus",
        "SKUs whose balances this process's availability cache holds.",
        value=len(cache),
    )
    yield GaugeMetricFamily(
        "inventory_availability_cache_capacity_skus",
        "How many SKUs the availability cache may hold (INVENTORY_AVAILABILITY_CACHE_SKUS).",
        value=cache.capacity,
    )
    feed = runtime.feed
    yield GaugeMetricFamily(
        "inventory_change_feed_connected",
        "1 while the change feed listens (the cache is kept current), 0 while it does not "
        "(the cache is bypassed: reads go to the database).",
        value=1.0 if feed.connected.is_set() else 0.0,
    )
    yield GaugeMetricFamily(
        "inventory_change_feed_lag_seconds",
        "Seconds since the change feed's connection last answered its heartbeat: every "
        "change committed before then has reached the cache, so this bounds how stale it is.",
        value=time.monotonic() - feed.heard_at,
    )


def _pool(runtime: Runtime) -> Iterator[Metric]:
    pool = runtime.pool
    size, idle = pool.get_size(), pool.get_idle_size()
    connections = GaugeMetricFamily(
        "inventory_db_pool_connections",
        "Open connections of this process's database pool, by state (in_use, idle).",
        labels=["state"],
    )
    connections.add_metric(["in_use"], size - idle)
    connections.add_metric(["idle"], idle)
    yield connections
    yield GaugeMetricFamily(
        "inventory_db_pool_max_connections",
        "The pool's maximum (INVENTORY_DB_POOL_MAX).",
        value=pool.get_max_size(),
    )
    yield GaugeMetricFamily(
        "inventory_db_pool_waiting",
        "Callers waiting for a pooled connection (the pool is exhausted while above 0).",
        value=_waiting(pool),
    )


def _waiting(pool: object) -> int:
    """asyncpg has no public figure for it: the waiters of the pool's connection queue
    (an asyncio.Queue's ``_getters``); 0 if a future asyncpg hides it elsewhere."""
    getters = getattr(getattr(pool, "_queue", None), "_getters", ())
    return sum(1 for waiter in getters if not waiter.done())


RUNTIME = RuntimeCollector()
REGISTRY.register(RUNTIME)


async def exposition(runtime: Runtime) -> bytes:
    """The process's metrics in Prometheus' text format (prometheus_client renders it)."""
    await RUNTIME.refresh(runtime)
    return generate_latest(REGISTRY)
