"""A migration that adds a column, applied while the service runs, costs it no failed
request: a transaction whose prepared ``SELECT *`` the new column invalidated is run
again (docs/operations.md, "Deploy and upgrade")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from service.storage.database import Database
from service.storage.pool import Connection, Pool, create_pool

TABLE = "migration_probe"


@pytest.fixture
async def one_connection(database_url: str, pool: Pool) -> AsyncIterator[Database]:
    """A Database on a pool of one connection, so its prepared statements are reused."""
    await pool.execute(f"CREATE TABLE {TABLE} (id int PRIMARY KEY, note text)")
    await pool.execute(f"INSERT INTO {TABLE} VALUES (1, 'before')")
    single = await create_pool(database_url, min_size=1, max_size=1)
    yield Database(single)
    await single.close()
    await pool.execute(f"DROP TABLE {TABLE}")


async def locked_row(conn: Connection) -> dict[str, object]:
    row = await conn.fetchrow(f"SELECT * FROM {TABLE} WHERE id = $1 FOR UPDATE", 1)
    assert row is not None
    return dict(row)


async def test_a_transaction_meeting_a_column_added_meanwhile_is_run_again(
    one_connection: Database, pool: Pool
) -> None:
    assert await one_connection.run(locked_row) == {"id": 1, "note": "before"}
    await pool.execute(f"ALTER TABLE {TABLE} ADD COLUMN added_by text")
    assert await one_connection.run(locked_row) == {"id": 1, "note": "before", "added_by": None}
