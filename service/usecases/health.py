"""Readiness: the database answers and every migration is applied."""

from __future__ import annotations

from service.storage import migrations
from service.storage.database import Database


async def readiness(db: Database) -> dict[str, str]:
    """One entry per check, "ok" or what is wrong."""
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
