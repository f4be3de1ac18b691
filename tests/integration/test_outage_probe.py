"""How a process tells an outage from a database that answers: during an outage one
caller at a time probes the database; whatever ends that probe (an answer, a refusal
by the work itself, a cancelled request) lets the next caller in, so an outage always
ends once the database is back. A database that answers slowly is not an outage, and
a COMMIT cut off by the deadline is reported as possibly applied."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from service.storage.database import Database
from service.storage.outage import DatabaseUnavailable
from service.storage.pool import Connection, Pool, create_pool
from tests.reservation_helpers import eventually
from tests.tcp_proxy import TcpProxy, through


class Refused(Exception):
    """What a use case raises after the database answered (a 404, a 409, a 422)."""


@pytest.fixture
async def behind(database_url: str, db_proxy: TcpProxy) -> AsyncIterator[Database]:
    """A Database whose only way to PostgreSQL is ``db_proxy`` (no change feed beside it
    that could end the outage on its behalf)."""
    pool = await create_pool(
        through(database_url, db_proxy.port), min_size=0, max_size=2, connect_timeout_s=0.5
    )
    try:
        yield Database(pool, acquire_timeout_s=0.5, deadline_s=2.0)
    finally:
        pool.terminate()


async def select_one(db: Database) -> int:
    async with db.connection() as conn:
        value: int = await conn.fetchval("SELECT 1")
        return value


async def an_outage(db: Database, db_proxy: TcpProxy) -> None:
    await db_proxy.down()
    with pytest.raises(DatabaseUnavailable):
        await select_one(db)
    assert db.outage.ongoing
    await db_proxy.up()


async def test_an_outage_whose_first_probe_is_refused_by_the_work_still_ends(
    behind: Database, db_proxy: TcpProxy
) -> None:
    await an_outage(behind, db_proxy)

    async def probe_refused() -> bool | None:
        try:
            async with behind.connection() as conn:
                await conn.fetchval("SELECT 1")
                raise Refused
        except DatabaseUnavailable:
            return None  # not this caller's turn to probe yet
        except Refused:
            return True

    await eventually(probe_refused, "a probe that the work refuses")
    assert not behind.outage.ongoing
    assert await select_one(behind) == 1


async def test_an_outage_whose_probe_is_cancelled_lets_the_next_caller_probe(
    behind: Database, db_proxy: TcpProxy
) -> None:
    await an_outage(behind, db_proxy)
    probing = asyncio.Event()

    async def slow() -> None:
        async with behind.connection() as conn:
            probing.set()
            await conn.execute("SELECT pg_sleep(5)")

    async def admitted() -> bool | None:
        task = asyncio.create_task(slow())
        done, _ = await asyncio.wait(
            [task, asyncio.create_task(probing.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        if task in done:  # refused at once: not this caller's turn yet
            with pytest.raises(DatabaseUnavailable):
                task.result()
            return None
        task.cancel()  # the client went away mid-probe
        await asyncio.gather(task, return_exceptions=True)
        return True

    await eventually(admitted, "a probe that is cancelled")

    async def answered() -> int | None:
        try:
            return await select_one(behind)
        except DatabaseUnavailable:
            return None

    assert await eventually(answered, "the next caller's probe", within_s=5.0) == 1
    assert not behind.outage.ongoing


async def test_work_cut_off_by_its_deadline_in_a_silent_network_is_refused_at_the_deadline(
    behind: Database, db_proxy: TcpProxy
) -> None:
    """Not when the silence ends: nothing waits on the silent connection after its
    deadline (no ROLLBACK, no cancel request), it is closed."""

    async def work(conn: Connection) -> None:
        await conn.fetchval("SELECT 1")
        db_proxy.stalled = True  # from here on nothing passes, nothing is closed
        await conn.fetchval("SELECT 2")

    try:
        async with asyncio.timeout(behind.deadline_s + 3.0):  # the silence lasts longer
            with pytest.raises(DatabaseUnavailable) as cut_off:
                await behind.run(work)
    finally:
        db_proxy.stalled = False
    assert not cut_off.value.maybe_applied
    assert behind.outage.ongoing


async def test_a_statement_outlasting_the_statement_timeout_is_refused_without_an_outage(
    database_url: str, pool: Pool
) -> None:
    """PostgreSQL cancels it (it answered); unrelated work goes on at once."""
    slow_pool = await create_pool(database_url, min_size=0, max_size=2, statement_timeout_s=0.3)
    db = Database(slow_pool, deadline_s=0.3 + 1.0)
    try:
        with pytest.raises(DatabaseUnavailable) as refused:
            await db.run(lambda conn: conn.execute("SELECT pg_sleep(2)"))
        assert not refused.value.maybe_applied
        assert not db.outage.ongoing
        assert await select_one(db) == 1
    finally:
        await slow_pool.close()


async def test_a_commit_cut_off_by_the_deadline_may_have_happened(
    database_url: str, pool: Pool
) -> None:
    """A COMMIT that outlasts the block's deadline (a trigger deferred to COMMIT sleeps
    here; a silent network does the same) is answered "the outcome is unknown"."""
    async with pool.acquire() as conn:
        await conn.execute(
            """
            CREATE TABLE commit_probe (id int PRIMARY KEY);
            CREATE FUNCTION commit_probe_sleep() RETURNS trigger LANGUAGE plpgsql
              AS $$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER commit_probe_slow AFTER INSERT ON commit_probe
              DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION commit_probe_sleep();
            """
        )
    own_pool = await create_pool(database_url, min_size=0, max_size=2)
    db = Database(own_pool, deadline_s=0.3)
    try:
        with pytest.raises(DatabaseUnavailable) as cut_off:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO commit_probe VALUES (1)")
        assert cut_off.value.maybe_applied
    finally:
        own_pool.terminate()
        async with pool.acquire() as conn:
            await conn.execute("DROP TABLE commit_probe; DROP FUNCTION commit_probe_sleep()")
