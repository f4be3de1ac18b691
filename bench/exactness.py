"""Exactness after every reservation scenario: nothing lost, nothing doubled, nothing
oversold, and the ledger verifies.

- Every balance's ``reserved`` equals the units of its active reservation lines (the
  seed starts with nothing reserved, so a lost or doubled reservation shows here).
- No balance has ``on_hand - reserved - safety_stock < 0`` (the seed has none).
- The scenario's confirmed answers match its reservation rows: exactly for messages
  (every one is decided); for HTTP, wrk abandons the requests in flight when its time
  is up, so the rows may exceed the answers by at most the number of connections.
- ``inventory verify-ledger`` exits 0: every balance equals the sum of its movements.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg

from bench.procs import Processes
from bench.service_tree import ServiceTree

HELD_VS_RESERVED = """
WITH held AS (
    SELECT l.location_id, l.sku, sum(l.quantity - l.fulfilled) AS units
    FROM reservation_lines l
    JOIN reservations r USING (location_id, reservation_id)
    WHERE r.status = 'active'
    GROUP BY l.location_id, l.sku
)
SELECT
    count(*) FILTER (WHERE b.reserved <> coalesce(h.units, 0)) AS mismatched,
    count(*) FILTER (
        WHERE b.on_hand - b.reserved - coalesce(b.safety_stock, loc.default_safety_stock) < 0
    ) AS oversold,
    coalesce(sum(b.reserved), 0) AS reserved
FROM balances b
JOIN locations loc USING (location_id)
LEFT JOIN held h USING (location_id, sku)
"""

SLOT_USAGE = """
SELECT count(*) FROM pickup_slot_usage u
JOIN pickup_settings s USING (location_id)
LEFT JOIN (
    SELECT location_id, slot_start, count(*) AS taken FROM pickups
    WHERE status IN ('booked', 'ready') GROUP BY location_id, slot_start
) p USING (location_id, slot_start)
WHERE u.booked <> coalesce(p.taken, 0) OR u.booked > s.capacity_per_slot
"""


@dataclass
class Exactness:
    rows: int
    answered: int | None
    mismatched: int
    oversold: int
    reserved_total: int
    ledger_ok: bool
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def settled_count(conn: asyncpg.Connection, sql: str, *args: object) -> int:
    """``sql``'s count once it stopped changing for a second (at most 30 s)."""
    deadline = time.monotonic() + 30
    last, stable_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        value = int(await conn.fetchval(sql, *args))
        if value != last:
            last, stable_since = value, time.monotonic()
        elif time.monotonic() - stable_since >= 1.0:
            break
        await asyncio.sleep(0.2)
    return last


async def verify_ledger(
    procs: Processes, tree: ServiceTree, env: dict[str, str]
) -> tuple[bool, str]:
    """``inventory verify-ledger`` of the service under test: (passed, its last line)."""
    done = await procs.run(tree.argv("verify-ledger"), timeout_s=600, env=env, cwd=tree.root)
    text = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode == 0, (text[-1] if text else "")


async def check(
    dsn: str,
    procs: Processes,
    tree: ServiceTree,
    env: dict[str, str],
    *,
    rows_sql: str,
    rows_args: tuple[object, ...],
    answered: int | None,
    in_flight: int,
    expect_rows: int | None = None,
) -> Exactness:
    """Run every check; ``rows_sql`` counts the scenario's reservations (or pickups)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await settled_count(conn, rows_sql, *rows_args)
        figures = await conn.fetchrow(HELD_VS_RESERVED)
        slots_wrong = int(await conn.fetchval(SLOT_USAGE))
    finally:
        await conn.close()
    ledger_ok, ledger_line = await verify_ledger(procs, tree, env)
    result = Exactness(
        rows=rows,
        answered=answered,
        mismatched=figures["mismatched"],
        oversold=figures["oversold"],
        reserved_total=int(figures["reserved"]),
        ledger_ok=ledger_ok,
    )
    if result.mismatched:
        result.problems.append(
            f"{result.mismatched} balance(s) reserved != active reservation lines"
        )
    if result.oversold:
        result.problems.append(f"{result.oversold} balance(s) oversold")
    if slots_wrong:
        result.problems.append(f"{slots_wrong} pickup slot(s) booked != pickups or over capacity")
    if not ledger_ok:
        result.problems.append(f"verify-ledger failed: {ledger_line}")
    if expect_rows is not None and rows != expect_rows:
        result.problems.append(f"{rows} rows where exactly {expect_rows} were expected")
    if answered is not None and not answered <= rows <= answered + in_flight:
        result.problems.append(
            f"{answered} confirmed answers but {rows} rows (allowed: up to {in_flight} more)"
        )
    return result


def summary(result: Exactness) -> str:
    if result.ok:
        return (
            f"exact: {result.rows} rows for {result.answered} confirmed answers, "
            f"reserved = active lines everywhere, none oversold, ledger verified"
        )
    return "NOT EXACT: " + "; ".join(result.problems)
