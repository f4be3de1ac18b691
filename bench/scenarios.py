"""The HTTP scenarios: availability reads and reservations (pickups: bench/pickups.py).

Each read scenario runs a short warm-up, a peak run (wrk, as fast as it goes) and a
run paced at half the peak rate, which gives the latency the targets speak of.
Each reservation scenario ends with the exactness checks (bench/exactness.py).
"""

from __future__ import annotations

import asyncio
import math
import time

import asyncpg

from bench import catalogue as cat
from bench import ceilings, exactness
from bench.context import Context
from bench.freshness import freshness_probe, lag_summary
from bench.options import SELLOUT_UNITS
from bench.report import Row, row_from_load
from bench.seed import hot_balance, sellout_balance
from bench.wrk_runner import Load, run_wrk

RADIUS_KM = 30
CART_LINES = 10
TTL_S = 3600


def write_cities(ctx: Context) -> str:
    path = ctx.work_dir / "cities.txt"
    path.write_text("".join(f"{lat} {lon} {weight}\n" for _, lat, lon, _, weight in cat.CITIES))
    return str(path)


async def wrk(
    ctx: Context,
    script: str,
    args: dict[str, object],
    *,
    duration_s: int | None = None,
    rate: float | None = None,
) -> Load:
    o = ctx.options
    return await run_wrk(
        ctx.procs,
        script,
        ctx.service_url,
        args,
        duration_s=duration_s or o.duration_s,
        threads=o.threads,
        connections=o.connections,
        rate=rate,
    )


# ------------------------------------------------------------------ reads


async def reads(ctx: Context) -> None:
    cities = write_cities(ctx)
    plans = [
        ("one_sku", "one SKU at one store", "one_sku", ctx.wrk_args("benchreader")),
        (
            "nearby",
            f"nearby stores ({RADIUS_KM} km)",
            "nearby",
            ctx.wrk_args("benchreader", cities=cities, radius_km=RADIUS_KM),
        ),
        (
            "cart",
            f"{CART_LINES}-line cart, stores within {RADIUS_KM} km",
            "cart",
            ctx.wrk_args("benchreader", cities=cities, radius_km=RADIUS_KM, lines=CART_LINES),
        ),
    ]
    for key, title, script, args in plans:
        if key == "one_sku" and ctx.options.wants("ceilings"):
            # Right before the scenario it is compared with, so that the machine's drift
            # over a long run does not land in the ratio.
            await ceilings.framework(ctx)
        print(f"- {title}", flush=True)
        await wrk(ctx, script, args, duration_s=ctx.options.warmup_s)
        peak = ctx.add(row_from_load(f"{key}.peak", f"{title}: peak", await wrk(ctx, script, args)))
        half = (peak.rate or 0) / 2
        if half >= 1:
            load = await wrk(ctx, script, args, rate=half)
            ctx.add(
                row_from_load(f"{key}.half", f"{title}: at half the peak ({half:,.0f}/s)", load)
            )


# ------------------------------------------------------------------ reservations


async def reservations(ctx: Context) -> None:
    await http_spread(ctx)
    await http_hot(ctx)
    await http_sellout(ctx)


def reservation_rows_sql() -> str:
    return "SELECT count(*) FROM reservations WHERE reservation_id LIKE $1"


async def checked(
    ctx: Context,
    row: Row,
    prefix: str,
    answered: int | None,
    expect_rows: int | None = None,
    sql: str | None = None,
) -> Row:
    backlog = await outbox_rows(ctx)  # right as the load stopped
    result = await exactness.check(
        ctx.dsn,
        ctx.procs,
        ctx.tree,
        ctx.env(),
        rows_sql=sql or reservation_rows_sql(),
        rows_args=(f"{prefix}-%",),
        answered=answered,
        in_flight=ctx.options.connections,
        expect_rows=expect_rows,
    )
    row.exact = result.ok
    row.details["exactness"] = {
        "rows": result.rows,
        "answered": result.answered,
        "mismatched_balances": result.mismatched,
        "oversold_balances": result.oversold,
        "reserved_total": result.reserved_total,
        "ledger_verified": result.ledger_ok,
        "problems": result.problems,
    }
    row.note = exactness.summary(result)
    print(f"    {row.note}", flush=True)
    await outbox_settled(ctx, row, backlog)
    return row


async def outbox_rows(ctx: Context) -> int:
    conn = await asyncpg.connect(ctx.dsn)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM outbox")
    finally:
        await conn.close()
    return count


async def outbox_settled(ctx: Context, row: Row, backlog: int, limit_s: float = 120.0) -> None:
    """Record the events still unpublished when the load stopped and wait until the
    worker's relay has published them, so that no scenario's publishing spills into
    the next one's measurement. A dead worker is a failure, not a faster figure."""
    if ctx.worker is not None and ctx.worker.returncode is not None:
        raise RuntimeError(f"inventory worker exited with {ctx.worker.returncode}")
    started = time.monotonic()
    left = await outbox_rows(ctx)
    while left and time.monotonic() - started < limit_s:
        await asyncio.sleep(0.2)
        left = await outbox_rows(ctx)
    waited = round(time.monotonic() - started, 1)
    row.details["outbox"] = {"backlog_at_end": backlog, "drained_in_s": waited, "left": left}
    print(
        f"    outbox: {backlog} events unpublished at the end, published in {waited} s", flush=True
    )
    if left:
        raise RuntimeError(f"{left} outbox rows still unpublished after {limit_s:.0f} s")


async def http_spread(ctx: Context) -> None:
    print("- reservations over HTTP, spread over the catalogue", flush=True)
    prefix = f"bh-spread-{ctx.run_id}"
    args = ctx.wrk_args("benchwebshop", mode="spread", prefix=prefix, ttl=TTL_S)
    load = await wrk(ctx, "reserve", args)
    row = ctx.add(row_from_load("reservations.http_spread", "reservations HTTP, spread SKUs", load))
    await checked(ctx, row, prefix, load.ok)


async def http_hot(ctx: Context) -> None:
    location_id, sku = hot_balance()
    print(
        f"- reservations over HTTP, one hot SKU ({sku} at {location_id}), "
        f"{ctx.options.connections} clients, with a freshness probe",
        flush=True,
    )
    prefix = f"bh-hot-{ctx.run_id}"
    args = ctx.wrk_args(
        "benchwebshop", mode="hot", prefix=prefix, ttl=TTL_S, location=location_id, sku=sku
    )
    stop = asyncio.Event()
    probe = asyncio.create_task(freshness_probe(ctx, location_id, sku, stop))
    try:
        load = await wrk(ctx, "reserve", args)
    finally:
        stop.set()
        lags = await probe
    row = ctx.add(row_from_load("reservations.http_hot", "reservations HTTP, one hot SKU", load))
    row.details["freshness_lag_ms"] = lag_summary(lags)
    ctx.extra["freshness_lag_ms"] = row.details["freshness_lag_ms"]
    await checked(ctx, row, prefix, load.ok)


async def http_sellout(ctx: Context) -> None:
    """The last units of a balance go to exactly as many requests: run until sold out
    (the duration comes from the hot rate just measured) and count the rows."""
    location_id, sku = sellout_balance()
    hot = next((r for r in ctx.rows if r.key == "reservations.http_hot"), None)
    hot_rate = hot.rate if hot and hot.rate else 100.0
    duration = min(60, max(3, math.ceil(1.5 * SELLOUT_UNITS / hot_rate) + 2))
    print(
        f"- flash sale to the last unit: {SELLOUT_UNITS} units of {sku} at {location_id}, "
        f"{duration}s",
        flush=True,
    )
    prefix = f"bh-sellout-{ctx.run_id}"
    args = ctx.wrk_args(
        "benchwebshop", mode="hot", prefix=prefix, ttl=TTL_S, location=location_id, sku=sku
    )
    load = await wrk(ctx, "reserve", args, duration_s=duration)
    row = ctx.add(
        row_from_load(
            "reservations.http_sellout", f"reservations HTTP, sell-out of {SELLOUT_UNITS}", load
        )
    )
    sold_out = load.rejected > 0
    row.details["sold_out"] = sold_out
    await checked(ctx, row, prefix, load.ok, expect_rows=SELLOUT_UNITS if sold_out else None)
    if not sold_out:
        row.note += f" (did not sell out within {duration}s)"
