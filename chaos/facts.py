"""What the database says after a scenario, read straight from its tables (never through
the service or the fault proxy): the scenario's reservations and their lines, the units
their ``reserve`` movements took, the message ids claimed and their stored answers,
the outbox, and whether every balance's ``reserved`` equals its active lines."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from bench.exactness import HELD_VS_RESERVED
from service.usecases.message_idempotency import MESSAGE_SCOPE

Units = dict[str, int]  # sku -> units


@dataclass(frozen=True, slots=True)
class Facts:
    reservations: dict[str, tuple[str, Units]]  # reservation_id -> (status, lines)
    reserved_by: dict[str, Units]  # reservation_id -> units of its reserve movements
    decided: dict[str, int]  # message_id -> stored status (201 created, 409 refused, ...)
    outbox: int
    mismatched: int  # balances whose reserved != units of active reservation lines
    oversold: int  # balances with on_hand - reserved - safety_stock < 0


async def read(dsn: str, prefix: str) -> Facts:
    """The facts about the reservations and messages whose ids start with ``prefix``."""
    conn = await asyncpg.connect(dsn)
    try:
        like = f"{prefix}%"
        reservations: dict[str, tuple[str, Units]] = {}
        for row in await conn.fetch(
            """SELECT r.reservation_id, r.status, l.sku, l.quantity
               FROM reservations r JOIN reservation_lines l USING (location_id, reservation_id)
               WHERE r.reservation_id LIKE $1""",
            like,
        ):
            _, lines = reservations.setdefault(row["reservation_id"], (row["status"], {}))
            lines[row["sku"]] = row["quantity"]
        reserved_by: dict[str, Units] = {}
        for row in await conn.fetch(
            """SELECT reference, sku, sum(reserved_delta) AS units
               FROM movements WHERE kind = 'reserve' AND reference LIKE $1
               GROUP BY reference, sku""",
            like,
        ):
            reserved_by.setdefault(row["reference"], {})[row["sku"]] = int(row["units"])
        decided = {
            row["key"]: row["status_code"]
            for row in await conn.fetch(
                "SELECT key, status_code FROM idempotency_keys WHERE scope = $1 AND key LIKE $2",
                MESSAGE_SCOPE,
                like,
            )
        }
        outbox = int(await conn.fetchval("SELECT count(*) FROM outbox"))
        held = await conn.fetchrow(HELD_VS_RESERVED)
    finally:
        await conn.close()
    return Facts(reservations, reserved_by, decided, outbox, held["mismatched"], held["oversold"])


async def decided_count(conn: asyncpg.Connection, prefix: str) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM idempotency_keys WHERE scope = $1 AND key LIKE $2",
            MESSAGE_SCOPE,
            f"{prefix}%",
        )
    )


async def outbox_count(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM outbox"))
