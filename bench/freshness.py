"""Freshness of the availability answers while reservations change the balance."""

from __future__ import annotations

import asyncio
import math
import statistics
import time

import asyncpg
import httpx

from bench.context import Context
from bench.seed import token


async def freshness_probe(
    ctx: Context, location_id: str, sku: str, stop: asyncio.Event
) -> list[float]:
    """Lag between a committed value and the API showing it, in ms, ten times a second.

    Read the hot balance's ``reserved`` from PostgreSQL (the value committed by the time
    the statement starts), then poll the availability endpoint until it shows at least
    that much (``reserved`` only grows during the hot run). The time from just before
    the read to the first such answer is an upper bound of the lag.
    """
    conn = await asyncpg.connect(ctx.dsn)
    lags: list[float] = []
    path = f"/v1/availability/{sku}/locations/{location_id}"
    headers = {"Authorization": f"Bearer {token('benchreader')}"}
    try:
        async with httpx.AsyncClient(
            base_url=ctx.service_url, headers=headers, timeout=10
        ) as client:
            while not stop.is_set():
                started = time.monotonic()
                committed = await conn.fetchval(
                    "SELECT reserved FROM balances WHERE location_id = $1 AND sku = $2",
                    location_id,
                    sku,
                )
                while time.monotonic() - started < 10 and not stop.is_set():
                    try:
                        answer = await client.get(path)
                    except httpx.HTTPError:
                        break
                    if answer.status_code == 200 and answer.json()["reserved"] >= committed:
                        lags.append((time.monotonic() - started) * 1000)
                        break
                    await asyncio.sleep(0.005)
                await asyncio.sleep(0.1)
    finally:
        await conn.close()
    return lags


def lag_summary(lags: list[float]) -> dict[str, float | int | None]:
    if not lags:
        return {"samples": 0, "p50": None, "p99": None, "max": None}
    ordered = sorted(lags)
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return {
        "samples": len(lags),
        "p50": round(statistics.median(ordered), 1),
        "p99": round(p99, 1),
        "max": round(ordered[-1], 1),
    }
