"""Migrations build the schema once, in order, and refuse an applied file that was edited."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from service.storage import migrations, sql
from service.storage.arrays import ArrayStatement
from service.storage.migrations import MIGRATIONS_DIR, MigrationError
from service.storage.pool import Pool, connect

NewDatabase = Callable[[], Awaitable[str]]
ON_DISK = sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))


@pytest.fixture
async def fresh(new_database: NewDatabase) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(await new_database())
    yield conn
    await conn.close()


@pytest.fixture
def copied(tmp_path: Path) -> Path:
    """A copy of migrations/ that a test may edit."""
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    return directory


async def tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r["tablename"] for r in rows}


async def test_migrate_on_a_fresh_database_builds_the_ledger_schema(
    fresh: asyncpg.Connection,
) -> None:
    applied = await migrations.migrate(fresh)
    assert applied == ON_DISK
    assert {"locations", "balances", "movements", "transfers", "idempotency_keys"} <= await tables(
        fresh
    )
    recorded = await fresh.fetch("SELECT name, checksum FROM schema_migrations ORDER BY version")
    assert [r["name"] for r in recorded] == ON_DISK
    assert all(len(r["checksum"]) == 64 for r in recorded)


async def test_a_second_migrate_applies_nothing(fresh: asyncpg.Connection) -> None:
    await migrations.migrate(fresh)
    assert await migrations.migrate(fresh) == []
    assert await fresh.fetchval("SELECT count(*) FROM schema_migrations") == len(ON_DISK)


async def test_two_replicas_migrating_at_once_both_succeed_and_apply_each_file_once(
    new_database: NewDatabase,
) -> None:
    url = await new_database()
    first, second = await connect(url), await connect(url)
    try:
        results = await asyncio.gather(migrations.migrate(first), migrations.migrate(second))
        assert sorted(results, key=len) == [[], ON_DISK]
        names = await first.fetch("SELECT name FROM schema_migrations ORDER BY version")
        assert [r["name"] for r in names] == ON_DISK
    finally:
        await first.close()
        await second.close()


async def test_pending_lists_the_files_not_yet_applied(
    fresh: asyncpg.Connection, copied: Path
) -> None:
    assert await migrations.pending(fresh, copied) == ON_DISK
    await migrations.migrate(fresh, copied)
    assert await migrations.pending(fresh, copied) == []
    (copied / "0999_add_notes.sql").write_text("CREATE TABLE notes (note text);")
    assert await migrations.pending(fresh, copied) == ["0999_add_notes.sql"]
    assert await migrations.migrate(fresh, copied) == ["0999_add_notes.sql"]
    assert "notes" in await tables(fresh)


async def test_an_applied_migration_that_was_edited_is_refused_naming_the_file(
    fresh: asyncpg.Connection, copied: Path
) -> None:
    await migrations.migrate(fresh, copied)
    edited = copied / ON_DISK[0]
    edited.write_text(edited.read_text() + "\n-- a harmless-looking edit\n")
    (copied / "0999_add_notes.sql").write_text("CREATE TABLE notes (note text);")
    with pytest.raises(MigrationError, match=re.escape(ON_DISK[0])):
        await migrations.migrate(fresh, copied)
    with pytest.raises(MigrationError, match=re.escape(ON_DISK[0])):
        await migrations.pending(fresh, copied)
    assert "notes" not in await tables(fresh)


async def test_a_failing_migration_is_rolled_back_and_not_recorded(
    fresh: asyncpg.Connection, copied: Path
) -> None:
    (copied / "0999_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();"
    )
    with pytest.raises(asyncpg.PostgresError):
        await migrations.migrate(fresh, copied)
    assert "half_done" not in await tables(fresh)
    assert "movements" in await tables(fresh)
    assert await migrations.pending(fresh, copied) == ["0999_broken.sql"]


async def test_a_migration_file_with_a_bad_name_is_refused(
    fresh: asyncpg.Connection, copied: Path
) -> None:
    (copied / "add-notes.sql").write_text("CREATE TABLE notes (note text);")
    with pytest.raises(MigrationError, match=r"add-notes\.sql"):
        await migrations.migrate(fresh, copied)


async def test_a_refused_run_releases_the_lock_so_another_replica_can_start(
    new_database: NewDatabase, copied: Path
) -> None:
    url = await new_database()
    first, second = await connect(url), await connect(url)
    try:
        await migrations.migrate(first, copied)
        edited = copied / ON_DISK[0]
        edited.write_text(edited.read_text() + "\n-- edited\n")
        with pytest.raises(MigrationError):
            await migrations.migrate(first, copied)
        assert await asyncio.wait_for(migrations.migrate(second), timeout=10) == []
    finally:
        await first.close()
        await second.close()


@pytest.mark.usefixtures("clean")
@pytest.mark.parametrize(
    "statement", ["UPDATE movements SET on_hand_delta = 100", "DELETE FROM movements"]
)
async def test_movements_cannot_be_updated_or_deleted(pool: Pool, statement: str) -> None:
    await pool.execute(
        """
        INSERT INTO locations (location_id, kind, name, latitude, longitude, timezone)
        VALUES ('ST-A', 'store', 'A', 59.9, 10.7, 'Europe/Oslo');
        INSERT INTO balances (location_id, sku, on_hand) VALUES ('ST-A', 'S1', 5);
        INSERT INTO movements (location_id, sku, kind, on_hand_delta, actor, occurred_at)
        VALUES ('ST-A', 'S1', 'receipt', 5, 'test', now());
        """
    )
    with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
        await pool.execute(statement)
    assert await pool.fetchval("SELECT sum(on_hand_delta) FROM movements") == 5


STORAGE_DIR = Path(sql.__file__).parent
NAMED_QUERIES = {
    f"{path.name} {name}": text
    for path in sorted(STORAGE_DIR.glob("*.sql"))
    for name, text in sql.load_queries(path.name).items()
}


def array_statements() -> dict[str, str]:
    """The statements built from a template (``{name}`` placeholders, arrays.py), filled."""
    found = {}
    for info in pkgutil.iter_modules([str(STORAGE_DIR)]):
        module = importlib.import_module(f"service.storage.{info.name}")
        for attribute, value in vars(module).items():
            if isinstance(value, ArrayStatement):
                found[f"{info.name}.{attribute}"] = value.sql
    return found


def statements_to_prepare() -> dict[str, str]:
    """Every named query; a template through the statement that fills it in."""
    plain = {name: text for name, text in NAMED_QUERIES.items() if "{" not in text}
    templates = len(NAMED_QUERIES) - len(plain)
    filled = array_statements()
    assert len(filled) == templates, "each template is filled by one ArrayStatement"
    return plain | filled


async def test_every_named_query_prepares_against_the_schema_the_migrations_build(
    fresh: asyncpg.Connection,
) -> None:
    """PostgreSQL resolves every table, column, function and parameter type when it
    prepares a statement: a query naming something the migrations do not create fails
    here, not in production."""
    await migrations.migrate(fresh)
    failures = []
    statements = statements_to_prepare()
    for name, text in statements.items():
        try:
            await fresh.prepare(text)
        except asyncpg.PostgresError as exc:
            failures.append(f"{name}: {exc}")
    assert failures == []
    assert len(statements) > 50


async def test_a_query_naming_a_column_the_migrations_do_not_create_fails_to_prepare(
    fresh: asyncpg.Connection,
) -> None:
    await migrations.migrate(fresh)
    with pytest.raises(asyncpg.UndefinedColumnError):
        await fresh.prepare("SELECT no_such_column FROM balances WHERE location_id = $1")
