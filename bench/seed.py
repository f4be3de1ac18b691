"""A fresh database and vhost per run, migrated by the service, seeded through COPY.

Every balance gets one ``receipt`` movement of its on_hand, so that the ledger
verifies (each balance equals the sum of its movements) from the start. The
seeding connection runs with ``session_replication_role = replica``: the
foreign-key triggers are skipped because the rows are consistent by
construction (balances before movements, every movement's balance exists), and
``inventory verify-ledger`` checks the result anyway.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime

import asyncpg
import msgspec

from bench import catalogue as cat
from bench.options import HOT_ON_HAND, HOT_SKU_NUMBER, SELLOUT_SKU_NUMBER, SELLOUT_UNITS
from bench.procs import Processes
from bench.service_tree import ServiceTree
from service.storage.api_keys import hash_secret

KEY_SECRET = "bench-only-not-a-secret"
API_KEYS = [("benchreader", "reader"), ("benchwebshop", "webshop"), ("benchadmin", "admin")]
STORE_SAFETY_STOCK = 1
_DAY = [{"opens": "09:00", "closes": "21:00"}]
OPENING_HOURS = {
    "monday": _DAY,
    "tuesday": _DAY,
    "wednesday": _DAY,
    "thursday": _DAY,
    "friday": _DAY,
    "saturday": [{"opens": "10:00", "closes": "18:00"}],
    "sunday": [{"opens": "12:00", "closes": "18:00"}],
}


def token(key_id: str) -> str:
    return f"inv_{key_id}_{KEY_SECRET}"


def hot_balance() -> tuple[str, str]:
    return cat.store_id(cat.store_of(HOT_SKU_NUMBER, 0)), cat.sku_id(HOT_SKU_NUMBER)


def sellout_balance() -> tuple[str, str]:
    return cat.store_id(cat.store_of(SELLOUT_SKU_NUMBER, 0)), cat.sku_id(SELLOUT_SKU_NUMBER)


async def recreate_database(base: str, name: str) -> None:
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def drop_database(base: str, name: str) -> None:
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def recreate_vhost(procs: Processes, vhost: str) -> None:
    await procs.run(["rabbitmqctl", "-q", "delete_vhost", vhost], timeout_s=60)  # absent is fine
    for argv in (
        ["rabbitmqctl", "-q", "add_vhost", vhost],
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
    ):
        done = await procs.run(argv, timeout_s=60)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.stdout}")


async def delete_vhost(procs: Processes, vhost: str) -> None:
    await procs.run(["rabbitmqctl", "-q", "delete_vhost", vhost], timeout_s=60)


async def migrate(procs: Processes, tree: ServiceTree, env: dict[str, str]) -> None:
    """``inventory migrate`` of the service under test: its own migrations build the schema."""
    done = await procs.run(tree.argv("migrate"), timeout_s=300, env=env, cwd=tree.root)
    if done.returncode != 0:
        raise RuntimeError(f"inventory migrate failed: {done.stderr.strip() or done.stdout}")


def balance_rows(nskus: int, seed: int = 11) -> list[tuple[str, str, int]]:
    """(location_id, sku, on_hand) of every balance, ordered by (location_id, sku).

    That order makes every index insert of the COPY an append to the right edge of
    the primary keys, several times faster than catalogue order on a big table.
    """
    rng = random.Random(seed)
    hot, sellout = hot_balance(), sellout_balance()
    skus = [cat.sku_id(k) for k in range(nskus + 1)]
    rows: list[tuple[str, str, int]] = []
    for code, *_ in cat.WAREHOUSE_SITES:
        rows.extend((code, skus[k], rng.randint(100, 5_000)) for k in range(1, nskus + 1))
    by_store: list[list[tuple[str, str, int]]] = [[] for _ in range(cat.STORES + 1)]
    store_ids = [cat.store_id(s) for s in range(cat.STORES + 1)]
    for k in range(1, nskus + 1):
        for j in range(cat.width(k)):
            s = cat.store_of(k, j)
            by_store[s].append((store_ids[s], skus[k], rng.randint(1, 40)))
    for store_rows in by_store:
        rows.extend(store_rows)
    rows.sort(key=lambda row: (row[0], row[1]))
    specials = {hot: HOT_ON_HAND, sellout: SELLOUT_UNITS + STORE_SAFETY_STOCK}
    return [(loc, sku, specials.get((loc, sku), on_hand)) for loc, sku, on_hand in rows]


async def seed(dsn: str, nskus: int) -> dict[str, float]:
    """Load locations, balances, receipts and API keys; returns counts and seconds taken."""
    started = time.monotonic()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET session_replication_role = replica")
        await _locations(conn)
        await conn.executemany(
            "INSERT INTO api_keys (key_id, name, role, secret_hash) VALUES ($1, $2, $3, $4)",
            [(kid, f"bench {role}", role, hash_secret(KEY_SECRET)) for kid, role in API_KEYS],
        )
        # Balances and movements on two connections at once: PostgreSQL builds their
        # indexes on both cores while this process encodes the rows.
        rows = balance_rows(nskus)
        secondary = await _drop_secondary_indexes(conn)
        await asyncio.gather(_copy_balances(dsn, rows), _copy_movements(dsn, rows))
        for definition in secondary:  # rebuilt by one sort each: faster than row by row
            await conn.execute(definition)
        copied = time.monotonic() - started
        await conn.execute("VACUUM (ANALYZE) balances, movements, locations")
        balances = await conn.fetchval("SELECT count(*) FROM balances")
    finally:
        await conn.close()
    return {
        "skus": nskus,
        "balances": balances,
        "copy_s": round(copied, 1),
        "seed_s": round(time.monotonic() - started, 1),
    }


async def _copy_balances(dsn: str, rows: list[tuple[str, str, int]]) -> None:
    now = datetime.now(UTC)
    conn = await _replica_connection(dsn)
    try:
        await conn.copy_records_to_table(
            "balances",
            records=((loc, sku, on_hand, 0, 0, None, now) for loc, sku, on_hand in rows),
            columns=[
                "location_id",
                "sku",
                "on_hand",
                "reserved",
                "incoming",
                "safety_stock",
                "updated_at",
            ],
        )
    finally:
        await conn.close()


async def _copy_movements(dsn: str, rows: list[tuple[str, str, int]]) -> None:
    now = datetime.now(UTC)
    conn = await _replica_connection(dsn)
    try:
        await conn.copy_records_to_table(
            "movements",
            records=(
                (loc, sku, "receipt", on_hand, 0, 0, "bench-seed", "bench-seed", now)
                for loc, sku, on_hand in rows
            ),
            columns=[
                "location_id",
                "sku",
                "kind",
                "on_hand_delta",
                "reserved_delta",
                "incoming_delta",
                "reference",
                "actor",
                "occurred_at",
            ],
        )
    finally:
        await conn.close()


async def _drop_secondary_indexes(conn: asyncpg.Connection) -> list[str]:
    """Drop the indexes of balances and movements that back no constraint; return their
    exact definitions (``pg_get_indexdef``) to recreate them after the load."""
    rows = await conn.fetch(
        """SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
           FROM pg_index i
           WHERE i.indrelid IN ('balances'::regclass, 'movements'::regclass)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"""
    )
    for row in rows:
        await conn.execute(f"DROP INDEX {row['name']}")
    return [row["definition"] for row in rows]


async def _replica_connection(dsn: str) -> asyncpg.Connection:
    """A connection whose foreign-key triggers do not fire (rows consistent by construction)."""
    conn: asyncpg.Connection = await asyncpg.connect(dsn)
    await conn.execute("SET session_replication_role = replica")
    return conn


async def _locations(conn: asyncpg.Connection) -> None:
    hours = msgspec.json.encode(OPENING_HOURS).decode()
    rows = []
    for site in cat.sites():
        store = site.kind == "store"
        number = int(site.location_id.split("-")[1])
        rows.append(
            (
                site.location_id,
                site.kind,
                site.name,
                f"{site.name} high street" if store else site.name,
                site.latitude,
                site.longitude,
                site.timezone,
                hours,
                store and number % 5 != 0,
                3,
                STORE_SAFETY_STOCK if store else 0,
            )
        )
    await conn.executemany(
        """INSERT INTO locations (location_id, kind, name, address, latitude, longitude, timezone,
               opening_hours, pickup_offered, low_stock_threshold, default_safety_stock)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11)""",
        rows,
    )
