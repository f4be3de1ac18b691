"""In-process read model for availability: locations and balances kept in memory.

Reads are served from memory; a miss reads through to PostgreSQL. Freshness
comes from the change feed: every transaction that changes a balance notifies
the SKUs it touched, and the entries of those SKUs are dropped. A load that was
in flight when its SKU was invalidated returns its rows to its caller but does
not store them, so a stale read can never settle in the cache. While the change
feed is down, nothing is cached and every read goes to the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from service.domain.ledger import Balance
from service.domain.locations import Location
from service.logging import get_logger
from service.storage.change_feed import BALANCES_CHANNEL, LOCATIONS_CHANNEL, RESET, ChangeFeed
from service.storage.database import Database
from service.storage.ledger import LedgerRepository
from service.storage.locations import LocationRepository

log = get_logger(__name__)

SkuBalances = dict[str, Balance]  # location_id -> balance, for one SKU


class LocationDirectory:
    """Every location, in memory, reloaded whole when any location changes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.by_id: dict[str, Location] = {}
        self.stores: list[Location] = []
        self._reload: asyncio.Task[None] | None = None
        self._stale = False

    async def load(self) -> None:
        async with self.db.connection() as conn:
            locations = await LocationRepository(conn).list_all()
        self.by_id = {loc.location_id: loc for loc in locations}
        self.stores = [loc for loc in locations if loc.kind == "store" and loc.active]

    def changed(self, _payload: str = RESET) -> None:
        self._stale = True
        if self._reload is None or self._reload.done():
            self._reload = asyncio.get_running_loop().create_task(self._reload_quietly())

    async def _reload_quietly(self) -> None:
        """One reload at a time, and once more when a change arrived during it: two
        reloads side by side could finish in the wrong order and leave the older
        directory. A reload that fails (database down) keeps the old directory; the
        next change or the change feed's reconnection reloads it."""
        while self._stale:
            self._stale = False
            try:
                await self.load()
            except Exception as exc:
                log.warning("location_reload_failed", error=type(exc).__name__)
                return

    def get(self, location_id: str) -> Location | None:
        return self.by_id.get(location_id)


class BalanceCache:
    """SKU -> its balances at every location, read through, dropped on change."""

    def __init__(self, db: Database, feed: ChangeFeed | None, capacity: int) -> None:
        self.db = db
        self.feed = feed
        self.capacity = capacity
        self._entries: dict[str, SkuBalances] = {}
        self._loading: dict[str, set[object]] = {}

    @property
    def live(self) -> bool:
        return self.feed is not None and self.feed.connected.is_set()

    def __len__(self) -> int:
        return len(self._entries)

    async def of_sku(self, sku: str) -> SkuBalances:
        entry = self._entries.get(sku)
        if entry is not None:
            return entry
        return (await self._load([sku]))[sku]

    def cached(self, sku: str) -> SkuBalances | None:
        """The SKU's balances when memory holds them and the change feed keeps them
        fresh; None when only the database can answer."""
        return self._entries.get(sku) if self.live else None

    async def of_skus(self, skus: Sequence[str]) -> dict[str, SkuBalances]:
        found = {sku: self._entries[sku] for sku in skus if sku in self._entries}
        missing = [sku for sku in skus if sku not in found]
        if missing:
            found.update(await self._load(missing))
        return found

    async def warm(self, chunk: int = 1000) -> int:
        """Load every SKU's balances (up to capacity), a chunk at a time, so that the
        first reads do not all go to the database; returns how many SKUs. Safe
        while writes go on: each chunk is an ordinary read-through load."""
        after, loaded = "", 0
        while self.live and loaded + chunk <= self.capacity:
            async with self.db.connection() as conn:
                skus = await LedgerRepository(conn).skus_after(after, chunk)
            if not skus:
                break
            await self._load(skus)
            loaded += len(skus)
            after = skus[-1]
        return loaded

    def invalidate(self, payload: str) -> None:
        if payload == RESET:
            self.clear()
            return
        self.forget(set(payload.split("\n")))

    def forget(self, skus: set[str]) -> None:
        """Drop these SKUs (this replica just committed a change to them)."""
        for sku in skus:
            self._entries.pop(sku, None)
            tokens = self._loading.get(sku)
            if tokens:
                tokens.clear()

    def clear(self) -> None:
        self._entries.clear()
        for tokens in self._loading.values():
            tokens.clear()

    async def _load(self, skus: Sequence[str]) -> dict[str, SkuBalances]:
        token = object()
        for sku in skus:
            self._loading.setdefault(sku, set()).add(token)
        try:
            async with self.db.connection() as conn:
                rows = await LedgerRepository(conn).balances_of_skus(skus)
        finally:
            valid = {sku for sku in skus if self._release(sku, token)}
        loaded: dict[str, SkuBalances] = {sku: {} for sku in skus}
        for balance in rows:
            loaded[balance.sku][balance.location_id] = balance
        if self.live:
            self._store((sku, loaded[sku]) for sku in valid)
        return loaded

    def _release(self, sku: str, token: object) -> bool:
        """Forget a load's token; True when no invalidation happened during the load."""
        tokens = self._loading.get(sku)
        if tokens is None or token not in tokens:
            if tokens is not None and not tokens:
                del self._loading[sku]
            return False
        tokens.discard(token)
        if not tokens:
            del self._loading[sku]
        return True

    def _store(self, entries: Iterable[tuple[str, SkuBalances]]) -> None:
        for sku, balances in entries:
            if len(self._entries) >= self.capacity:
                del self._entries[next(iter(self._entries))]  # oldest first
            self._entries[sku] = balances


class ReadModel:
    """The availability read side of one replica."""

    def __init__(self, db: Database, feed: ChangeFeed | None, capacity: int) -> None:
        self.locations = LocationDirectory(db)
        self.balances = BalanceCache(db, feed, capacity)
        if feed is not None:
            feed.subscribe(BALANCES_CHANNEL, self.balances.invalidate)
            feed.subscribe(LOCATIONS_CHANNEL, self._locations_changed)
            feed.on_reset(self.reset)

    async def start(self) -> None:
        await self.locations.load()

    async def committed(self, changes: dict[str, set[str]]) -> None:
        """This replica just committed ``changes``: forget them before answering."""
        if "locations" in changes:
            self.balances.clear()
            await self.locations.load()
        elif "balances" in changes:
            self.balances.forget(changes["balances"])

    async def current_locations(self) -> LocationDirectory:
        """The location directory, reloaded first while the change feed is down (then
        nothing tells this replica that another one changed a location)."""
        if not self.balances.live:
            await self.locations.load()
        return self.locations

    def _locations_changed(self, payload: str) -> None:
        # A location's default safety stock is folded into its cached balances.
        self.balances.clear()
        self.locations.changed(payload)

    def reset(self) -> None:
        self.balances.clear()
        try:
            self.locations.changed()
        except RuntimeError:  # no running loop: shutting down
            log.debug("read_model_reset_without_loop")
