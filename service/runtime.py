"""The running service's parts, built once per process and shared by every edge."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from service.domain.pickups import CodeSecrets
from service.logging import get_logger
from service.observability.metrics import count_committed
from service.settings import Settings
from service.storage.api_keys import KeyCache
from service.storage.change_feed import KEYS_CHANNEL, OUTBOX_CHANNEL, ChangeFeed
from service.storage.database import DEADLINE_MARGIN_S, Database
from service.storage.pool import Pool, create_pool
from service.storage.read_model import ReadModel
from service.usecases.pickup_code_secrets import code_secrets_of
from service.usecases.reservation_engine import ReservationEngine

log = get_logger(__name__)


def freeze_heap() -> None:
    """Move every object alive now out of the garbage collector's sight, so it stops
    rescanning long-lived objects on every full collection (millions in a warm
    availability cache, the start-up objects in the worker)."""
    gc.collect()
    gc.freeze()


async def _warm(read_model: ReadModel, feed: ChangeFeed) -> int:
    """Warm the availability cache once the database answers, then freeze the heap."""
    await feed.connected.wait()
    loaded = await read_model.balances.warm()
    freeze_heap()
    log.info("availability_cache_warm", skus=loaded)
    return loaded


@dataclass
class Runtime:
    settings: Settings
    pool: Pool
    db: Database
    feed: ChangeFeed
    read_model: ReadModel
    engine: ReservationEngine
    keys: KeyCache
    outbox_signal: asyncio.Event = field(default_factory=asyncio.Event)
    warming: asyncio.Task[int] | None = None
    # Readiness of parts started beside the runtime (the worker's broker connection):
    # name -> a function answering "ok" or what is wrong.
    checks: dict[str, Callable[[], str]] = field(default_factory=dict)

    @classmethod
    async def start(cls, settings: Settings, *, serves_reads: bool = True) -> Runtime:
        """Start, whether or not the database answers yet: what needs it connects when
        it is back (the pool on first use, the change feed in the background), and
        readiness says so meanwhile. ``serves_reads=False`` (``inventory worker``): the
        availability cache is not warmed, as nothing reads it there; loading two
        million balances would only compete with the consumer for CPU."""
        pool = await _pool(settings)
        db = Database(
            pool,
            acquire_timeout_s=settings.db_acquire_timeout_s,
            deadline_s=settings.db_statement_timeout_s + DEADLINE_MARGIN_S,
        )
        feed = ChangeFeed(settings.database_url)
        read_model = ReadModel(db, feed, settings.availability_cache_skus)
        engine = ReservationEngine(db, max_batch=settings.reservation_batch_max)
        db.after_commit.append(read_model.committed)
        db.after_commit.append(count_committed)
        keys = KeyCache(db)
        feed.subscribe(KEYS_CHANNEL, keys.forget)
        feed.on_reset(lambda: keys.forget("*"))
        runtime = cls(settings, pool, db, feed, read_model, engine, keys)
        feed.subscribe(OUTBOX_CHANNEL, lambda _payload: runtime.outbox_signal.set())
        feed.start()
        await _first_listen(feed, read_model, settings.db_connect_timeout_s)
        if settings.availability_cache_warm and serves_reads:
            runtime.warming = asyncio.create_task(_warm(read_model, feed), name="cache-warm")
        return runtime

    @property
    def code_secrets(self) -> CodeSecrets:
        """The pickup-code secrets: the current one, and the previous one after a rotation."""
        return code_secrets_of(self.settings)

    def listening(self) -> str:
        return "ok" if self.feed.connected.is_set() else "waiting for the database"

    @property
    def warm(self) -> bool:
        """The availability cache is loaded (or warming is off): ready for reads."""
        return self.warming is None or self.warming.done()

    async def stop(self) -> None:
        if self.warming is not None:
            self.warming.cancel()
            await asyncio.gather(self.warming, return_exceptions=True)
        await self.engine.stop()
        await self.feed.stop()
        await self.pool.close()


async def _pool(settings: Settings) -> Pool:
    """The pool, with its minimum of connections; with none when the database does not
    answer yet (it connects on first use then)."""
    timeouts = {
        "connect_timeout_s": settings.db_connect_timeout_s,
        "statement_timeout_s": settings.db_statement_timeout_s,
    }
    url, largest = settings.database_url, settings.db_pool_max
    try:
        return await create_pool(url, min_size=settings.db_pool_min, max_size=largest, **timeouts)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        log.warning("database_unavailable_at_start", error=type(exc).__name__, waiting=True)
        return await create_pool(url, min_size=0, max_size=largest, **timeouts)


async def _first_listen(feed: ChangeFeed, read_model: ReadModel, within_s: float) -> None:
    """Give the change feed a moment to listen and load the locations; when the database
    does not answer, go on without them (the feed loads them once it listens)."""
    try:
        async with asyncio.timeout(within_s):
            await feed.connected.wait()
            await read_model.start()
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        log.warning("started_without_database", error=type(exc).__name__)
