"""The suite's own databases and vhosts, and the small catalogue it seeds.

The schema is built by ``inventory migrate`` of the service under test, once, in a
template database; each scenario gets a copy (``CREATE DATABASE … TEMPLATE``, a file
copy of a few megabytes) and a vhost of its own, both dropped when it ends. The
private cluster of the restart scenario is migrated and seeded the same way.

Every balance gets one ``receipt`` movement of its on_hand, so the ledger verifies
from the start. Nothing is reserved at first, so after a scenario every unit
reserved belongs to one of its own reservations.
"""

from __future__ import annotations

import asyncpg
import msgspec

from bench.procs import Processes, clean_env
from bench.seed import delete_vhost, drop_database, recreate_vhost
from bench.service_tree import ServiceTree
from service.storage.api_keys import hash_secret

__all__ = ["delete_vhost", "drop_database", "recreate_vhost"]

SHARED_BASE = "postgresql://postgres@127.0.0.1:5432"
AMQP_BASE = "amqp://guest:guest@127.0.0.1:5672"
STORES = ("ST-CHAOS-A", "ST-CHAOS-B")
SKUS = tuple(f"CHAOS-{n:03d}" for n in range(1, 21))
PLENTY = 1_000_000  # on hand of every ordinary balance: nothing runs out
SCARCE_SKU = "CHAOS-SCARCE"  # at STORES[0] only, with SCARCE_UNITS: the workload sells it out
SCARCE_UNITS = 80
KEY_ID, KEY_SECRET = "chaoswebshop", "chaos-only-not-a-secret"
TOKEN = f"inv_{KEY_ID}_{KEY_SECRET}"
_DAY = [{"opens": "09:00", "closes": "21:00"}]
_WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HOURS = msgspec.json.encode(dict.fromkeys(_WEEK, _DAY)).decode()


def balances() -> list[tuple[str, str, int]]:
    rows = [(store, sku, PLENTY) for store in STORES for sku in SKUS]
    return [*rows, (STORES[0], SCARCE_SKU, SCARCE_UNITS)]


async def build(procs: Processes, tree: ServiceTree, base: str, name: str) -> None:
    """Create ``name`` on the server at ``base``, migrate it with the service's own
    ``inventory migrate`` and seed it."""
    await drop_database(base, name)
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    env = clean_env({"INVENTORY_DATABASE_URL": f"{base}/{name}"})
    done = await procs.run(tree.argv("migrate"), timeout_s=120, env=env, cwd=tree.root)
    if done.returncode != 0:
        raise RuntimeError(f"inventory migrate failed: {done.stderr.strip() or done.stdout}")
    await seed(f"{base}/{name}")


async def copy(base: str, template: str, name: str) -> None:
    await drop_database(base, name)
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await admin.close()


async def seed(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.executemany(
                """INSERT INTO locations (location_id, kind, name, address, latitude, longitude,
                       timezone, opening_hours, pickup_offered, default_safety_stock)
                   VALUES ($1, 'store', $1, 'chaos street', 59.91, 10.75, 'Europe/Oslo',
                           $2::jsonb, false, 0)""",
                [(store, _HOURS) for store in STORES],
            )
            rows = balances()
            await conn.executemany(
                "INSERT INTO balances (location_id, sku, on_hand) VALUES ($1, $2, $3)", rows
            )
            await conn.executemany(
                """INSERT INTO movements (location_id, sku, kind, on_hand_delta, reference,
                       actor, occurred_at)
                   VALUES ($1, $2, 'receipt', $3, 'chaos-seed', 'chaos-seed', now())""",
                rows,
            )
            await conn.execute(
                "INSERT INTO api_keys (key_id, name, role, secret_hash) VALUES ($1, $2, $3, $4)",
                KEY_ID,
                "chaos suite",
                "webshop",
                hash_secret(KEY_SECRET),
            )
    finally:
        await conn.close()
