"""The asyncpg connection pool, with JSON codecs backed by msgspec."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
Pool = asyncpg.Pool

_encode = msgspec.json.encode
_decode = msgspec.json.decode

# Query plans (docs/performance.md, "Query plans"):
# - one generic plan per prepared statement, so the flush's big write is not planned
#   again on every run while it holds a hot balance's lock;
# - statements prepared afresh every few seconds, so no plan outlives the table sizes
#   it was made for (a plan made on an empty table would otherwise scan it forever).
STATEMENT_LIFETIME_S = 5
SERVER_SETTINGS = {"application_name": "inventory", "plan_cache_mode": "force_generic_plan"}


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename,
            encoder=lambda value: _encode(value).decode(),
            decoder=_decode,
            schema="pg_catalog",
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a released connection needs besides asyncpg's own rollback of an open
    transaction: nothing. No code sets session state on a pooled connection (no SET,
    no session advisory lock, no LISTEN, no cursor outside a transaction: the change
    feed and the migration runner have their own connections), so asyncpg's default
    reset query would only cost a round trip on every release; the reservation engine
    answers a batch after its connection is back in the pool."""


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    connect_timeout_s: float = 60.0,
    statement_timeout_s: float | None = None,
) -> Pool:
    """A pool; with ``min_size=0`` it connects only when first used (start-up does not
    wait for the database). PostgreSQL itself cancels a statement on it that runs longer
    than ``statement_timeout_s`` (the client's own deadline is Database's)."""
    settings = dict(SERVER_SETTINGS)
    if statement_timeout_s is not None:
        settings["statement_timeout"] = f"{round(statement_timeout_s * 1000)}ms"
    pool: Any = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        timeout=connect_timeout_s,
        init=_init_connection,
        reset=_keep_session,
        server_settings=settings,
        max_cached_statement_lifetime=STATEMENT_LIFETIME_S,
    )
    return pool  # type: ignore[no-any-return]


async def connect(dsn: str, *, within_s: float = 60.0) -> asyncpg.Connection:
    conn: asyncpg.Connection = await asyncpg.connect(
        dsn, server_settings=SERVER_SETTINGS, timeout=within_s
    )
    await _init_connection(conn)
    return conn


async def create_database_if_missing(dsn: str) -> bool:
    """Create the database named in ``dsn`` (connecting to ``postgres``); True if created."""
    base, _, name = dsn.rpartition("/")
    name = name.split("?", 1)[0]
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        await admin.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await admin.close()
