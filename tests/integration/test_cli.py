"""The ``inventory`` command: verify-ledger checks every balance against its movements."""

from __future__ import annotations

import asyncio
import os
import sys

from service.storage.pool import Pool
from tests.helpers import Client, given_locations, posted, receipt, sale


async def inventory(*args: str, **env: str) -> tuple[int, str, str]:
    """Run ``python -m service ARGS`` with only the INVENTORY_* variables given."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service",
        *args,
        env={**environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def given_a_ledger(client: Client) -> None:
    await given_locations(client, "ST-A", "ST-B")
    await posted(client, "k1", receipt("ST-A", 5), receipt("ST-B", 7), receipt("ST-B", 2, "S2"))
    await posted(client, "k2", sale("ST-A", 6), sale("ST-B", 1))


async def test_verify_ledger_exits_0_when_every_balance_equals_its_movements(
    client: Client, database_url: str
) -> None:
    await given_a_ledger(client)
    code, out, err = await inventory("verify-ledger", INVENTORY_DATABASE_URL=database_url)
    assert code == 0, out + err
    assert "MISMATCH" not in out


async def test_verify_ledger_exits_1_naming_a_balance_that_was_tampered_with(
    client: Client, pool: Pool, database_url: str
) -> None:
    await given_a_ledger(client)
    await pool.execute(
        "UPDATE balances SET on_hand = on_hand + 1 WHERE location_id = 'ST-B' AND sku = 'S1'"
    )
    code, out, err = await inventory("verify-ledger", INVENTORY_DATABASE_URL=database_url)
    assert code == 1, out + err
    mismatches = [line for line in out.splitlines() if line.startswith("MISMATCH")]
    assert len(mismatches) == 1, out
    assert "ST-B S1" in mismatches[0]
    assert "on_hand 7 vs 6" in mismatches[0]


async def test_a_bad_setting_stops_the_command_with_one_line_naming_it() -> None:
    code, _, err = await inventory("verify-ledger", INVENTORY_PORT="eighty")
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "INVENTORY_PORT" in err
