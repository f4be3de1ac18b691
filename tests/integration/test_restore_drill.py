"""The restore drill of docs/operations.md, run as written: dump the ledger with
``pg_dump``, restore it into a new database with ``pg_restore``, and the restored
database verifies (``inventory verify-ledger``) with the same balances."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from tests.helpers import Client, given_locations, posted, receipt, sale
from tests.integration.test_cli import inventory
from tests.reservation_helpers import create_body, reserve

LEDGER_TABLES = {
    "balances": "location_id, sku",
    "movements": "movement_id",
    "reservations": "location_id, reservation_id",
    "reservation_lines": "location_id, reservation_id, sku",
    "idempotency_keys": "scope, key",
}


async def run(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, (command[0], out.decode(), err.decode())


async def rows_of(database_url: str) -> dict[str, list[tuple[object, ...]]]:
    conn = await asyncpg.connect(database_url)
    try:
        return {
            table: [tuple(r) for r in await conn.fetch(f"SELECT * FROM {table} ORDER BY {key}")]
            for table, key in LEDGER_TABLES.items()
        }
    finally:
        await conn.close()


async def given_stock_and_reservations(client: Client) -> None:
    await given_locations(client, "ST-A", "ST-B")
    await posted(client, "k1", receipt("ST-A", 20), receipt("ST-B", 7), receipt("ST-B", 4, "S2"))
    await posted(client, "k2", sale("ST-A", 3))
    for number, (store, sku, quantity) in enumerate([("ST-A", "S1", 5), ("ST-B", "S2", 4)]):
        answer = await reserve(client, create_body(f"r-{number}", store, (sku, quantity)))
        assert answer.status_code == 201, answer.text


async def test_a_dump_restored_into_a_new_database_verifies_with_the_same_balances(
    client: Client,
    database_url: str,
    new_database: Callable[[], Awaitable[str]],
    tmp_path: Path,
) -> None:
    await given_stock_and_reservations(client)
    dump = tmp_path / "inventory.dump"

    await run("pg_dump", "--format=custom", f"--file={dump}", database_url)
    restored = await new_database()
    await run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump))

    code, out, err = await inventory("verify-ledger", INVENTORY_DATABASE_URL=restored)
    assert code == 0, out + err
    assert out.startswith("inventory: ledger verified")
    before, after = await rows_of(database_url), await rows_of(restored)
    assert after == before
    assert len(after["balances"]) == 3
    assert len(after["reservations"]) == 2
    code, out, err = await inventory("migrate", INVENTORY_DATABASE_URL=restored)
    assert (code, out) == (0, "inventory: 0 migration(s) applied\n"), err
