"""The running service's parts, built once per process and shared by every edge."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass, field

from service.logging import get_logger
from service.settings import Settings
from service.storage.api_keys import KeyCache
from service.storage.change_feed import KEYS_CHANNEL, OUTBOX_CHANNEL, ChangeFeed
from service.storage.database import Database
from service.storage.pool import Pool, create_pool
from service.storage.read_model import ReadModel
from service.usecases.reservation_engine import ReservationEngine

log = get_logger(__name__)


def freeze_heap() -> None:
    """Move every object alive now out of the garbage collector's sight, so it stops
    rescanning long-lived objects on every full collection (millions in a warm
    availability cache, the start-up objects in the worker)."""
    gc.collect()
    gc.freeze()


async def _warm(read_model: ReadModel) -> int:
    """Warm the availability cache, then freeze the heap."""
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

    @classmethod
    async def start(cls, settings: Settings, *, serves_reads: bool = True) -> Runtime:
        """Connect and start. ``serves_reads=False`` (``inventory worker``): the
        availability cache is not warmed, as nothing reads it there; loading two
        million balances would only compete with the consumer for CPU."""
        pool = await create_pool(
            settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        db = Database(pool)
        feed = ChangeFeed(settings.database_url)
        read_model = ReadModel(db, feed, settings.availability_cache_skus)
        engine = ReservationEngine(db, max_batch=settings.reservation_batch_max)
        db.after_commit.append(read_model.committed)
        keys = KeyCache(db)
        feed.subscribe(KEYS_CHANNEL, keys.forget)
        feed.on_reset(lambda: keys.forget("*"))
        runtime = cls(settings, pool, db, feed, read_model, engine, keys)
        feed.subscribe(OUTBOX_CHANNEL, lambda _payload: runtime.outbox_signal.set())
        await feed.start()
        await read_model.start()
        if settings.availability_cache_warm and serves_reads:
            runtime.warming = asyncio.create_task(_warm(read_model), name="cache-warm")
        return runtime

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
