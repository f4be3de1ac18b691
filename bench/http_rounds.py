"""The HTTP groups in rounds (bench/rounds.py): within each round every scenario runs
next to the ceilings it is compared with, so a ratio pairs figures taken minutes apart.

- a read round: the framework ceiling (constant JSON), pgbench's point read, then the
  one-SKU, nearby and cart scenarios, each at its peak and at half of that peak;
- a write round: pgbench's spread reservations, HTTP spread reservations, the framework
  POST ceiling, pgbench's hot row, HTTP hot reservations (with the freshness probe),
  pickup bookings; after the last round, once, the sell-out.

Warm-ups (``--duration`` is measured, the warm-up is not) run in the first round only:
afterwards every process is warm.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from bench import ceilings, pickups, scenarios
from bench.context import Context
from bench.freshness import lag_summary
from bench.rounds import Rounds


async def read_rounds(ctx: Context, *, reads: bool, with_ceilings: bool) -> None:
    plans = scenarios.read_plans(ctx) if reads else []
    rounds = Rounds()
    try:
        async with _framework(ctx, with_ceilings) as url:
            for n in range(ctx.options.rounds):
                _announce(ctx, "read", n)
                warm_up = n == 0
                if with_ceilings:
                    rounds.add(n, await ceilings.framework_get(ctx, url, warm_up=warm_up))
                    rounds.add(n, await ceilings.pgbench_ceiling(ctx, "point_read"))
                for plan in plans:
                    rounds.add(n, *await scenarios.read(ctx, plan, warm_up=warm_up))
    finally:
        for row in rounds.medians():
            ctx.add(row)


async def write_rounds(
    ctx: Context, *, reservations: bool, bookings: bool, with_ceilings: bool
) -> None:
    choices = await pickups.prepare_pickups(ctx) if bookings else ""
    rounds = Rounds()
    try:
        async with _framework(ctx, with_ceilings) as url:
            for n in range(ctx.options.rounds):
                _announce(ctx, "write", n)
                if with_ceilings:
                    rounds.add(n, await ceilings.pgbench_ceiling(ctx, "reserve_spread"))
                if reservations:
                    rounds.add(n, await scenarios.http_spread(ctx, n))
                if with_ceilings:
                    rounds.add(n, await ceilings.framework_post(ctx, url, warm_up=n == 0))
                    rounds.add(n, await ceilings.pgbench_ceiling(ctx, "reserve_hot"))
                if reservations:
                    rounds.add(n, await scenarios.http_hot(ctx, n))
                if bookings:
                    rounds.add(n, await pickups.book(ctx, choices, n))
    finally:
        medians = rounds.medians()
        for row in medians:
            ctx.add(row)
        if ctx.freshness_lags:  # the samples of every round together
            ctx.extra["freshness_lag_ms"] = lag_summary(ctx.freshness_lags)
    if reservations:
        hot = next((row for row in medians if row.key == "reservations.http_hot"), None)
        ctx.add(await scenarios.http_sellout(ctx, hot.rate if hot else None))


def _announce(ctx: Context, group: str, round_no: int) -> None:
    if ctx.options.rounds > 1:
        print(f"- {group} round {round_no + 1} of {ctx.options.rounds}", flush=True)


@contextlib.asynccontextmanager
async def _framework(ctx: Context, wanted: bool) -> AsyncIterator[str]:
    """The framework ceiling's app for the whole group (its URL), or nothing."""
    if not wanted:
        yield ""
        return
    async with ceilings.framework_app(ctx) as url:
        yield url
