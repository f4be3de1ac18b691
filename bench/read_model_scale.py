"""The availability read model at 10 million balances: memory, warm time, hit and miss.

``python -m bench.read_model_scale [--stores 9000] [--skus 1112] [--cache-skus 1000]``

Seeds a scratch database (dropped afterwards) with ``stores x skus`` balances, every SKU
carried by every store, as in the largest chains (a pharmacy chain: 9,000 stores, 20,000
SKUs each); the default is 9,000 x 1,112 = 10 million balances, so one SKU's entry holds
9,000 balances, as it would there. Rows are inserted store by store (as stores join a
chain), so one SKU's rows lie on as many pages as it has stores: a miss reads them all.

Then, in this one process, a real ``ReadModel`` (its change feed connected, as in
``inventory serve``) warms up to ``--cache-skus`` SKUs, and the script measures:

- the read model's memory: the growth of this process's RSS over the warm, per balance;
- the warm's duration;
- hit latency (``of_sku`` of a cached SKU) and miss latency (``of_sku`` of one that is
  not: one query of all its balances), p50 and p99;
- a point miss: one balance by primary key, what a replica that holds a partition of the
  locations pays for a balance it does not hold;

and prints a calculation for the largest chains: memory at 180 million balances, the hit
rate of a cache of N SKUs under Zipf-like SKU popularity. docs/scaling.md holds the figures.
The machine may be shared: the memory figures hold, the latencies are indicative.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from service.storage.change_feed import ChangeFeed
from service.storage.database import Database
from service.storage.migrations import migrate
from service.storage.pool import create_pool
from service.storage.read_model import ReadModel

BASE = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
CHAIN_STORES, CHAIN_SKUS = 9_000, 20_000
ZIPF_EXPONENTS = (0.8, 1.0, 1.2)
CACHE_SIZES = (500, 1_000, 2_000, 5_000, 10_000)

SEED_LOCATIONS = """
INSERT INTO locations (location_id, kind, name, latitude, longitude, timezone)
SELECT 'ST-' || lpad(s::text, 5, '0'), 'store', 'Store ' || s,
    55 + (s % 1000) / 100.0, 5 + (s / 1000) * 2.0, 'Europe/Oslo'
FROM generate_series(1, $1) AS s
"""
# Store by store; on_hand varies so that the figures are not all small cached ints.
SEED_BALANCES = """
INSERT INTO balances (location_id, sku, on_hand)
SELECT 'ST-' || lpad(s::text, 5, '0'), 'SKU-' || lpad(k::text, 6, '0'), (s * 7919 + k * 104729) % 5000
FROM generate_series($1::int, $2::int) AS s, generate_series(1, $3::int) AS k
"""
POINT_READ = """
SELECT b.location_id, b.sku, b.on_hand, b.reserved, b.incoming,
    coalesce(b.safety_stock, l.default_safety_stock) AS safety_stock
FROM balances b JOIN locations l USING (location_id)
WHERE b.location_id = $1 AND b.sku = $2
"""


@dataclass(frozen=True)
class Args:
    stores: int
    skus: int
    cache_skus: int
    samples: int
    keep: bool


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def sku(k: int) -> str:
    return f"SKU-{k:06d}"


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50_ms": statistics.median(ordered) * 1e3, "p99_ms": p99 * 1e3, "n": len(ordered)}


async def seed(dsn: str, args: Args) -> float:
    """Migrate and seed; returns the seconds taken."""
    started = time.monotonic()
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        await conn.execute(SEED_LOCATIONS, args.stores)
        step = 500
        for first in range(1, args.stores + 1, step):
            last = min(args.stores, first + step - 1)
            await conn.execute(SEED_BALANCES, first, last, args.skus)
            print(f"  seeded stores {first}..{last}", flush=True)
        await conn.execute("VACUUM ANALYZE balances")
        await conn.execute("VACUUM ANALYZE locations")
    finally:
        await conn.close()
    return time.monotonic() - started


async def timed(work: list[str], call: Callable[[str], Awaitable[object]]) -> list[float]:
    times = []
    for item in work:
        started = time.perf_counter()
        await call(item)
        times.append(time.perf_counter() - started)
    return times


async def measure(dsn: str, args: Args) -> dict[str, Any]:
    pool = await create_pool(dsn, min_size=1, max_size=2)
    feed = ChangeFeed(dsn)
    feed.start()
    await asyncio.wait_for(feed.connected.wait(), 30)
    model = ReadModel(Database(pool), feed, args.cache_skus)
    await model.start()
    gc.collect()
    before = rss_bytes()
    started = time.monotonic()
    loaded_skus = await model.balances.warm(chunk=50)
    warm_s = time.monotonic() - started
    gc.collect()
    after = rss_bytes()
    held = sum(len(entry) for entry in model.balances._entries.values())
    rng = random.Random(14)
    cached = list(model.balances._entries)
    hits = await timed(
        [rng.choice(cached) for _ in range(args.samples * 20)], model.balances.of_sku
    )
    uncached = [sku(k) for k in range(1, args.skus + 1) if sku(k) not in model.balances._entries]
    misses = await timed(
        rng.sample(uncached, min(args.samples, len(uncached))), model.balances.of_sku
    )

    async def point(key: str) -> None:
        async with model.balances.db.connection() as conn:
            await conn.fetchrow(POINT_READ, f"ST-{rng.randint(1, args.stores):05d}", key)

    points = await timed([sku(rng.randint(1, args.skus)) for _ in range(args.samples * 5)], point)
    await feed.stop()
    await pool.close()
    return {
        "skus_cached": loaded_skus,
        "balances_cached": held,
        "warm_s": warm_s,
        "warm_balances_per_s": held / warm_s,
        "rss_before_warm_mb": before / 2**20,
        "rss_after_warm_mb": after / 2**20,
        "bytes_per_balance": (after - before) / held,
        "hit": percentiles(hits),
        "miss_one_sku_all_stores": percentiles(misses),
        "miss_one_balance": percentiles(points),
    }


def zipf_hit_rate(cache: int, catalogue: int, exponent: float) -> float:
    """Share of requests for the ``cache`` most popular of ``catalogue`` SKUs when the
    i-th most popular is asked for in proportion to 1 / i**exponent."""
    weights: list[float] = [float(i) ** -exponent for i in range(1, catalogue + 1)]
    return sum(weights[:cache]) / sum(weights)


def beyond(bytes_per_balance: float) -> dict[str, object]:
    balances = CHAIN_STORES * CHAIN_SKUS
    per_sku = CHAIN_STORES * bytes_per_balance
    return {
        "chain_balances": balances,
        "memory_all_gb": balances * bytes_per_balance / 1e9,
        "memory_per_sku_entry_mb": per_sku / 1e6,
        "hit_rate": {
            f"zipf_{s}": {
                str(n): {"hit": zipf_hit_rate(n, CHAIN_SKUS, s), "memory_gb": n * per_sku / 1e9}
                for n in CACHE_SIZES
            }
            for s in ZIPF_EXPONENTS
        },
    }


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{BASE}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main(args: Args) -> dict[str, Any]:
    name = f"inventory_read_model_scale_{os.getpid()}"
    dsn = f"{BASE}/{name}"
    await admin(f'CREATE DATABASE "{name}"')
    try:
        seed_s = await seed(dsn, args)
        print(f"seeded {args.stores * args.skus:,} balances in {seed_s:.0f} s", flush=True)
        figures = await measure(dsn, args)
        figures["seed_s"] = seed_s
        figures["balances_in_database"] = args.stores * args.skus
        figures["beyond"] = beyond(figures["bytes_per_balance"])
        return figures
    finally:
        if not args.keep:
            await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def parse() -> Args:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stores", type=int, default=9_000)
    p.add_argument("--skus", type=int, default=1_112, help="SKUs, every one at every store")
    p.add_argument("--cache-skus", type=int, default=1_000, help="availability_cache_skus")
    p.add_argument("--samples", type=int, default=100, help="misses measured (hits: 20x)")
    p.add_argument("--keep", action="store_true", help="leave the scratch database")
    a = p.parse_args()
    return Args(a.stores, a.skus, a.cache_skus, a.samples, a.keep)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse())), indent=2))
