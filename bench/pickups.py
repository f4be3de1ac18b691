"""Pickup bookings: big slots on some stores, valid slot starts (prepared once per run),
then in each round POST /v1/pickups."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from bench import catalogue as cat
from bench.context import Context
from bench.report import Row, row_from_load
from bench.scenarios import checked, wrk
from bench.seed import token

HORIZON_DAYS = 7


async def book(ctx: Context, bookings: str, round_no: int) -> Row:
    """One round of bookings from the choices in the file ``bookings``, then the checks."""
    print("- pickup bookings", flush=True)
    prefix = f"bp-{ctx.run_id}-{round_no}"
    args = ctx.wrk_args("benchwebshop", bookings=bookings, prefix=prefix)
    load = await wrk(ctx, "pickup", args)
    row = ctx.measured(row_from_load("pickups.book", "pickup bookings", load))
    return await checked(
        ctx, row, prefix, load.ok, sql="SELECT count(*) FROM pickups WHERE pickup_id LIKE $1"
    )


async def prepare_pickups(ctx: Context) -> str:
    """Give some stores big slots (PUT pickup-settings), list their slots (GET pickup-slots)
    and write "location slot sku" choices for pickup.lua; returns the file's path."""
    stores = [cat.store_id(s) for s in range(1, cat.STORES + 1) if s % 5 != 0]
    stores = stores[: ctx.options.pickup_stores]
    settings: dict[str, int | list[object]] = {
        "slot_minutes": 30,
        "capacity_per_slot": 1000,
        "prep_minutes": 0,
        "horizon_days": HORIZON_DAYS,
        "hold_hours": 72,
        "suppliers": [],
    }
    now = datetime.now(UTC)
    # Bookable: after the preparation time, before the horizon (with margins).
    window = (now + timedelta(minutes=45), now + timedelta(days=HORIZON_DAYS - 1))
    rng = random.Random(3)
    choices: list[str] = []
    conn = await asyncpg.connect(ctx.dsn)
    try:
        async with httpx.AsyncClient(base_url=ctx.service_url, timeout=30) as client:
            for location_id in stores:
                slots = await _slots(client, location_id, settings, window)
                skus = [
                    r["sku"]
                    for r in await conn.fetch(
                        "SELECT sku FROM balances WHERE location_id = $1 AND on_hand - reserved >= 20 "
                        "ORDER BY sku LIMIT 500",
                        location_id,
                    )
                ]
                if not slots or not skus:
                    continue
                choices += [
                    f"{location_id} {rng.choice(slots)} {rng.choice(skus)}\n" for _ in range(2_000)
                ]
    finally:
        await conn.close()
    if not choices:
        raise RuntimeError("no bookable pickup slot found")
    path = ctx.work_dir / "bookings.txt"
    path.write_text("".join(choices))
    return str(path)


async def _slots(
    client: httpx.AsyncClient,
    location_id: str,
    settings: dict[str, int | list[object]],
    window: tuple[datetime, datetime],
) -> list[str]:
    admin = {"Authorization": f"Bearer {token('benchadmin')}"}
    reader = {"Authorization": f"Bearer {token('benchwebshop')}"}
    put = await client.put(
        f"/v1/locations/{location_id}/pickup-settings", json=settings, headers=admin
    )
    put.raise_for_status()
    got = await client.get(f"/v1/locations/{location_id}/pickup-slots", headers=reader)
    got.raise_for_status()
    return [
        s["starts_at"]
        for s in got.json()["slots"]
        if s["remaining"] > 0 and window[0] < datetime.fromisoformat(s["starts_at"]) < window[1]
    ]
