"""Readiness: the database answers and every migration is applied, within a deadline."""

from __future__ import annotations

import asyncio

from service.storage import migrations
from service.storage.database import Database


async def readiness(db: Database, within_s: float) -> dict[str, str]:
    """One entry per check, "ok" or what is wrong. A database that does not answer
    within ``within_s`` is reported so and not waited for: the check goes on in the
    background (asyncpg may take until the statement deadline to give the connection
    back)."""
    checking = asyncio.create_task(_database_checks(db))
    done, _ = await asyncio.wait({checking}, timeout=within_s)
    if done:
        return checking.result()
    checking.add_done_callback(_forget)
    return {"database": f"no answer within {within_s:g} s"}


async def _database_checks(db: Database) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        async with db.connection() as conn:
            checks["database"] = "ok"
            pending = await migrations.pending(conn)
        checks["migrations"] = "ok" if not pending else f"pending: {', '.join(pending)}"
    except migrations.MigrationError as exc:
        checks["migrations"] = f"error: {exc}"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    return checks


def _forget(task: asyncio.Task[dict[str, str]]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a late failure is not reported as never retrieved
