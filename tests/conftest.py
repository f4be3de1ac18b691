"""Shared fixtures: a database of this test run's own, built from migrations/.

Each run creates ``inventory_test_<random>`` on the local PostgreSQL and drops it
at the end; tests that write get a clean slate (every table truncated).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import httpx
import pytest
from litestar import Litestar

from service.api.app import create_app
from service.logging import configure_logging
from service.runtime import Runtime
from service.settings import Settings, load_settings
from service.storage import migrations
from service.storage.database import Database
from service.storage.pool import Pool, connect, create_pool
from service.usecases.keys import create_key

ADMIN_DSN = os.environ.get(
    "INVENTORY_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
KEEP_TABLES = {"schema_migrations"}

configure_logging("warning")


def dsn_for(database: str) -> str:
    return ADMIN_DSN.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    name = f"inventory_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = dsn_for(name)
    conn = await connect(url)
    try:
        await migrations.migrate(conn)
    finally:
        await conn.close()
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return load_settings(
        {}, database_url=database_url, environment="test", run_workers_in_process=False
    )


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(database_url, min_size=2, max_size=25)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def db(pool: Pool) -> Database:
    return Database(pool)


@pytest.fixture(scope="session")
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    rt = await Runtime.start(settings)
    yield rt
    await rt.stop()


async def truncate_all(pool: Pool) -> None:
    """Empty every table but schema_migrations and restart every identity.

    DELETE is an order of magnitude faster than TRUNCATE on tables this small.
    ``session_replication_role = replica`` switches off triggers for this
    transaction only: the foreign keys (so tables empty in any order) and the
    append-only guard of ``movements`` (which TRUNCATE never fired either).
    """
    tables = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    sequences = await pool.fetch(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
    )
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        for t in tables:
            if t["tablename"] not in KEEP_TABLES:
                await conn.execute(f'DELETE FROM "{t["tablename"]}"')
        for s in sequences:
            await conn.execute("SELECT setval($1::regclass, 1, false)", f'"{s["sequencename"]}"')


@pytest.fixture
async def clean(pool: Pool, runtime: Runtime) -> None:
    """An empty database (migrated) and an empty read model."""
    await truncate_all(pool)
    runtime.read_model.reset()
    await runtime.read_model.locations.load()


@pytest.fixture(scope="session")
def app(runtime: Runtime) -> Litestar:
    """The app on the session's runtime (ASGITransport sends no lifespan events)."""
    return create_app(runtime=runtime)


KeyMaker = Callable[..., Awaitable[str]]


@pytest.fixture
def make_key(db: Database, clean: None) -> KeyMaker:
    """``await make_key(role, *location_ids)`` creates an API key and returns its token."""

    async def make(role: str = "admin", *location_ids: str) -> str:
        return await create_key(db, f"test {role}", role, list(location_ids))

    return make


@pytest.fixture
async def client(app: Litestar, make_key: KeyMaker) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app (in this event loop), on an empty database, sending
    an admin API key (tests of roles send their own Authorization header)."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {await make_key('admin')}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://inventory.test", headers=headers
    ) as http:
        yield http


@pytest.fixture
async def new_database() -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """A factory of empty scratch databases (not migrated); each is dropped at the end."""
    admin = await asyncpg.connect(ADMIN_DSN)
    created: list[str] = []

    async def create() -> str:
        name = f"inventory_scratch_{secrets.token_hex(4)}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return dsn_for(name)

    try:
        yield create
    finally:
        for name in created:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
