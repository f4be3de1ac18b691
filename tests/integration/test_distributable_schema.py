"""The schema stays distributable by location (Citus), as docs/scaling.md describes.

Citus places a distributed table's rows by one column and refuses a primary key, a
unique constraint or a foreign key between distributed tables that leaves that column
out: each shard can only check what it holds. So every table whose rows belong to one
location is distributed by its location column, and the checks below run on the
catalog of a database built by migrations/ (this test run's own). A new table must be
placed in one of the two lists, and docs/scaling.md must say where it goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from service.storage.pool import Pool

SCALING_DOC = Path(__file__).resolve().parents[2] / "docs" / "scaling.md"

# Tables whose rows each belong to one location -> the column they are distributed by.
BY_LOCATION = {
    "balances": "location_id",
    "movements": "location_id",
    "reservations": "location_id",
    "reservation_lines": "location_id",
    "pickups": "location_id",
    "pickup_lines": "location_id",
    "pickup_slot_usage": "location_id",
    "pickup_settings": "location_id",
    "availability_changes": "location_id",  # the change log: one mark, one balance
    # A transfer line moves stock between two locations; it lives with its destination,
    # whose receipt it is settled by (the source's side is its transfer_out movement).
    "transfers": "to_location_id",
}

# Tables with no location of their own -> how they are placed on Citus.
REFERENCE = "reference table (a copy on every node)"
LOCAL = "local to the coordinator"
HASHED = "distributed by its own key"
ELSEWHERE = {
    "locations": REFERENCE,
    "supply_routes": REFERENCE,
    "api_keys": REFERENCE,
    "staff_sessions": LOCAL,
    "staff_sign_in_failures": LOCAL,
    "schema_migrations": LOCAL,
    "idempotency_keys": HASHED,
    "outbox": HASHED,
}

# Unique constraints without the location: ids unique across every location, which the
# service looks rows up by (GET /v1/reservations/{id}, a pickup by its id, a transfer
# line by its transfer id). On Citus each becomes a plain index on every shard and the
# lookup a fan-out (docs/scaling.md, "Ids without their location").
GLOBAL_IDS = {"reservations_id_key", "pickups_id_key", "transfers_id_sku_key"}

_KEYS = """
SELECT c.conname, c.contype::text AS kind, t.relname AS table_name,
    f.relname AS referenced_table,
    ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i)
        AS columns,
    ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
        AS referenced_columns
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace s ON s.oid = t.relnamespace
LEFT JOIN pg_class f ON f.oid = c.confrelid
WHERE s.nspname = 'public' AND c.contype IN ('p', 'u', 'f')
"""

# Unique indexes that are not constraints: Citus refuses them just the same.
_UNIQUE_INDEXES = """
SELECT i.relname AS index_name, t.relname AS table_name,
    ARRAY(SELECT a.attname::text FROM unnest(x.indkey) k(n)
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n) AS columns
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace s ON s.oid = t.relnamespace
WHERE s.nspname = 'public' AND x.indisunique
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
"""


@dataclass(frozen=True)
class Key:
    name: str
    table: str
    columns: list[str]
    target: str | None = None
    target_columns: tuple[str, ...] = ()


async def keys(pool: Pool, kind: str) -> list[Key]:
    """The primary keys ('p'), unique constraints ('u') or foreign keys ('f')."""
    return [
        Key(
            r["conname"],
            r["table_name"],
            r["columns"],
            r["referenced_table"],
            tuple(r["referenced_columns"]),
        )
        for r in await pool.fetch(_KEYS)
        if r["kind"] == kind
    ]


async def test_every_table_is_distributed_by_its_location_or_placed_otherwise(
    pool: Pool,
) -> None:
    rows = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert {r["tablename"] for r in rows} == BY_LOCATION.keys() | ELSEWHERE.keys()


async def test_a_location_tables_primary_key_holds_its_location(pool: Pool) -> None:
    primary = {k.table: k.columns for k in await keys(pool, "p")}
    for table, column in BY_LOCATION.items():
        assert column in primary[table], f"{table}: primary key {primary[table]}"


async def test_foreign_keys_between_location_tables_join_on_the_location(pool: Pool) -> None:
    for fk in await keys(pool, "f"):
        table, target = fk.table, str(fk.target)
        if table in BY_LOCATION and target in BY_LOCATION:
            pairs = dict(zip(fk.columns, fk.target_columns, strict=True))
            assert pairs.get(BY_LOCATION[table]) == BY_LOCATION[target], fk.name
        else:
            # From a location's table only into a reference table; into a location's
            # table only from another one.
            assert table not in BY_LOCATION or ELSEWHERE.get(target) == REFERENCE, fk.name
            assert target not in BY_LOCATION, fk.name


async def test_only_the_global_ids_are_unique_without_the_location(pool: Pool) -> None:
    unique = [(k.name, k.table, k.columns) for k in await keys(pool, "u")]
    unique += [
        (r["index_name"], r["table_name"], r["columns"]) for r in await pool.fetch(_UNIQUE_INDEXES)
    ]
    without = {
        name
        for name, table, columns in unique
        if table in BY_LOCATION and BY_LOCATION[table] not in columns
    }
    assert without == GLOBAL_IDS


@pytest.mark.parametrize("name", sorted(BY_LOCATION.keys() | ELSEWHERE.keys() | GLOBAL_IDS))
def test_the_scaling_document_says_where_each_table_and_global_id_goes(name: str) -> None:
    assert f"`{name}`" in SCALING_DOC.read_text()
