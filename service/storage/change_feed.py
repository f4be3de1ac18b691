"""PostgreSQL LISTEN/NOTIFY: tells every replica's caches what changed.

Writers call ``pg_notify`` inside their transaction, so a notification is
delivered only after the change commits. One dedicated connection listens; when
it is lost, every subscriber is reset (the caches empty themselves and read
through to the database) until the connection is back. A connection can also go
silent without closing (a half-open TCP connection, a stalled network): it is asked
``SELECT 1`` every HEARTBEAT_S, and one that does not answer within HEARTBEAT_S is
treated as lost, so a cache is never stale for more than about two heartbeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import asyncpg

from service.logging import get_logger
from service.storage.pool import connect

log = get_logger(__name__)

BALANCES_CHANNEL = "inventory_balances"
LOCATIONS_CHANNEL = "inventory_locations"
OUTBOX_CHANNEL = "inventory_outbox"
KEYS_CHANNEL = "inventory_keys"
RESET = "*"  # a payload that means "forget everything"
HEARTBEAT_S = 1.0
CONNECT_TIMEOUT_S = 5.0


class ChangeFeed:
    def __init__(self, dsn: str, *, heartbeat_s: float = HEARTBEAT_S) -> None:
        self.dsn = dsn
        self.heartbeat_s = heartbeat_s
        self._handlers: dict[str, list[Callable[[str], None]]] = {}
        self._resets: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.heard_at = time.monotonic()  # the last heartbeat answered (metrics: the lag)

    def subscribe(self, channel: str, handler: Callable[[str], None]) -> None:
        self._handlers.setdefault(channel, []).append(handler)

    def on_reset(self, handler: Callable[[], None]) -> None:
        self._resets.append(handler)

    def start(self) -> None:
        """Listen, in the background, from now on (``connected`` tells when)."""
        self._task = asyncio.create_task(self._run(), name="change-feed")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        delay, failures = 0.1, 0
        while True:
            lost = asyncio.Event()
            try:
                conn = await connect(self.dsn, within_s=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                if failures == 0:  # one line per outage, not one per attempt
                    log.warning("change_feed_connect_failed", error=str(exc) or type(exc).__name__)
                failures += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            try:
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                for channel in self._handlers:
                    await conn.add_listener(channel, self._dispatch)
                self._reset()  # whatever happened while we were not listening
                self.connected.set()
                delay, failures = 0.1, 0
                log.info("change_feed_listening", channels=sorted(self._handlers))
                await self._watch(conn, lost)
                log.warning("change_feed_lost")
            finally:
                self.connected.clear()
                self._reset()
                conn.terminate()  # not close(): a silent connection would not answer it

    async def _watch(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        """Return once the connection is lost or stops answering."""
        while not lost.is_set():
            try:
                async with asyncio.timeout(self.heartbeat_s):
                    await conn.execute("SELECT 1")
                self.heard_at = time.monotonic()
            except Exception:  # any failure to answer: treat the connection as lost
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.heartbeat_s):
                    await lost.wait()

    def _dispatch(self, _conn: Any, _pid: int, channel: str, payload: object) -> None:
        for handler in self._handlers.get(channel, []):
            handler(str(payload))

    def _reset(self) -> None:
        for handler in self._resets:
            handler()
