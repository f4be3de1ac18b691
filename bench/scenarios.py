"""The HTTP scenarios: availability reads and reservations (pickups: bench/pickups.py).
Each function is one round's measurement and returns its rows; bench/http_rounds.py
alternates them with their ceilings.

A read scenario runs a peak run (wrk, as fast as it goes) and a run paced at half
the peak rate, which gives the latency the targets speak of (in the first round
after a short warm-up). Each reservation scenario ends with the exactness checks
(bench/exactness.py).
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

import asyncpg

from bench import catalogue as cat
from bench import exactness
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
        spread=ctx.spread_env(),
    )


# ------------------------------------------------------------------ reads


@dataclass(frozen=True, slots=True)
class ReadPlan:
    key: str
    title: str
    script: str
    args: dict[str, object]


def read_plans(ctx: Context) -> list[ReadPlan]:
    cities = write_cities(ctx)
    near = {"cities": cities, "radius_km": RADIUS_KM}
    return [
        ReadPlan("one_sku", "one SKU at one store", "one_sku", ctx.wrk_args("benchreader")),
        ReadPlan(
            "nearby",
            f"nearby stores ({RADIUS_KM} km)",
            "nearby",
            ctx.wrk_args("benchreader", **near),
        ),
        ReadPlan(
            "cart",
            f"{CART_LINES}-line cart, stores within {RADIUS_KM} km",
            "cart",
            ctx.wrk_args("benchreader", **near, lines=CART_LINES),
        ),
    ]


async def read(ctx: Context, plan: ReadPlan, *, warm_up: bool) -> list[Row]:
    """The peak run and the run paced at half of that peak."""
    print(f"- {plan.title}", flush=True)
    if warm_up:
        await wrk(ctx, plan.script, plan.args, duration_s=ctx.options.warmup_s)
    load = await wrk(ctx, plan.script, plan.args)
    peak = ctx.measured(row_from_load(f"{plan.key}.peak", f"{plan.title}: peak", load))
    half = (peak.rate or 0) / 2
    if half < 1:
        return [peak]
    load = await wrk(ctx, plan.script, plan.args, rate=half)
    title = f"{plan.title}: at half the peak ({half:,.0f}/s)"
    return [peak, ctx.measured(row_from_load(f"{plan.key}.half", title, load, paced=half))]


# ------------------------------------------------------------------ reservations


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
    for worker in ctx.workers:
        if worker.returncode is not None:
            raise RuntimeError(f"inventory worker exited with {worker.returncode}")
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


async def http_spread(ctx: Context, round_no: int) -> Row:
    print("- reservations over HTTP, spread over the catalogue", flush=True)
    prefix = f"bh-spread-{ctx.run_id}-{round_no}"
    args = ctx.wrk_args("benchwebshop", mode="spread", prefix=prefix, ttl=TTL_S)
    load = await wrk(ctx, "reserve", args)
    title = "reservations HTTP, spread SKUs"
    row = ctx.measured(row_from_load("reservations.http_spread", title, load))
    return await checked(ctx, row, prefix, load.ok)


async def http_hot(ctx: Context, round_no: int) -> Row:
    location_id, sku = hot_balance()
    print(
        f"- reservations over HTTP, one hot SKU ({sku} at {location_id}), "
        f"{ctx.options.connections} clients, with a freshness probe",
        flush=True,
    )
    prefix = f"bh-hot-{ctx.run_id}-{round_no}"
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
    title = "reservations HTTP, one hot SKU"
    row = ctx.measured(row_from_load("reservations.http_hot", title, load))
    row.details["freshness_lag_ms"] = lag_summary(lags)
    ctx.freshness_lags.extend(lags)
    return await checked(ctx, row, prefix, load.ok)


async def http_sellout(ctx: Context, hot_rate: float | None) -> Row:
    """The last units of a balance go to exactly as many requests: run until sold out
    (the duration comes from the hot rate measured before) and count the rows. Once
    per run: the balance holds exactly 2,000 units, and selling them out is the check."""
    location_id, sku = sellout_balance()
    hot_rate = hot_rate or 100.0
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
    row = ctx.measured(
        row_from_load(
            "reservations.http_sellout", f"reservations HTTP, sell-out of {SELLOUT_UNITS}", load
        )
    )
    sold_out = load.rejected > 0
    row.details["sold_out"] = sold_out
    await checked(ctx, row, prefix, load.ok, expect_rows=SELLOUT_UNITS if sold_out else None)
    if not sold_out:
        row.note += f" (did not sell out within {duration}s)"
    return row
