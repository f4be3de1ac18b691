"""Shared fixtures: a database of this test run's own, built from migrations/.

Each run creates ``inventory_test_<random>`` on the local PostgreSQL and drops it
at the end; tests that write get a clean slate (every table truncated).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from service.api.app import create_app
from service.logging import configure_logging
from service.runtime import Runtime
from service.settings import Settings, load_settings
from service.storage import migrations
from service.storage.database import Database
from service.storage.pool import Pool, connect, create_pool

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
    pool = await create_pool(database_url, min_size=2, max_size=40)
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
    tables = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    names = ", ".join(f'"{t["tablename"]}"' for t in tables if t["tablename"] not in KEEP_TABLES)
    await pool.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
async def clean(pool: Pool, runtime: Runtime) -> None:
    """An empty database (migrated) and an empty read model."""
    await truncate_all(pool)
    runtime.read_model.reset()
    await runtime.read_model.locations.load()


@pytest.fixture
async def client(runtime: Runtime, clean: None) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app (in this event loop), on an empty database."""
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://inventory.test") as http:
        yield http
