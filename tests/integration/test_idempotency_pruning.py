"""Idempotency records older than INVENTORY_IDEMPOTENCY_RETENTION_S are pruned by the
worker, a batch at a time; younger ones, and their answers, stay."""

from __future__ import annotations

import pytest

from service.messaging.worker import Worker
from service.storage.database import Database
from service.storage.idempotency import IdempotencyRepository
from service.storage.pool import Connection, Pool
from service.usecases.retention import prune_idempotency
from tests.reservation_helpers import eventually

DAY_S = 24 * 3600


async def given_records(db: Database, pool: Pool, age_days: float, *keys: str) -> None:
    async def insert(conn: Connection) -> None:
        repository = IdempotencyRepository(conn)
        for key in keys:
            await repository.insert_key("test", key, "fingerprint")
            await repository.record("test", key, 200, {"payload": key})

    await db.run(insert)
    await pool.execute(
        "UPDATE idempotency_keys SET created_at = now() - make_interval(secs => $1) "
        "WHERE key = ANY($2::text[])",
        age_days * DAY_S,
        list(keys),
    )


async def keys_left(pool: Pool) -> set[str]:
    return {r["key"] for r in await pool.fetch("SELECT key FROM idempotency_keys")}


@pytest.mark.usefixtures("clean")
async def test_records_older_than_the_retention_go_and_younger_ones_stay(
    db: Database, pool: Pool
) -> None:
    await given_records(db, pool, 8, "old-1", "old-2", "old-3")
    await given_records(db, pool, 6.9, "young")

    assert await prune_idempotency(db, 7 * DAY_S, limit=2) == 2
    assert await prune_idempotency(db, 7 * DAY_S, limit=2) == 1
    assert await prune_idempotency(db, 7 * DAY_S, limit=2) == 0

    assert await keys_left(pool) == {"young"}
    async with db.connection() as conn:
        stored = await IdempotencyRepository(conn).stored("test", "young", "fingerprint")
    assert stored is not None
    assert stored.response == {"payload": "young"}


async def test_the_running_worker_prunes_what_is_past_the_retention(
    worker: Worker, db: Database, pool: Pool
) -> None:
    assert worker.runtime.settings.idempotency_retention_s == 7 * DAY_S
    await given_records(db, pool, 7.1, "past")
    await given_records(db, pool, 1, "recent")

    async def pruned() -> set[str] | None:
        left = await keys_left(pool)
        return left if "past" not in left else None

    assert await eventually(pruned, "the worker's pruning") == {"recent"}
