"""Cost growth: the one-SKU read and one reservation, at a light fixed rate, on
catalogues of 10 thousand, 1 million and 10 million balances (reseeded each time).

At a light load the latency is the cost of one request, not a queue; p50 is compared.
"""

from __future__ import annotations

from bench import catalogue as cat
from bench.context import Context
from bench.report import row_from_load
from bench.scenarios import TTL_S, checked, wrk
from bench.setup import prepare_data

READ_RATE = 200
RESERVE_RATE = 50


def scale_label(balances: int) -> str:
    if balances >= 1_000_000:
        return f"{balances / 1_000_000:g}m"
    return f"{balances / 1_000:g}k"


async def growth(ctx: Context) -> None:
    figures: dict[str, dict[str, float | None]] = {}
    for balances in ctx.options.growth_scales:
        label = scale_label(balances)
        print(f"- cost growth at {label} balances: reseeding", flush=True)
        await ctx.stop_service()
        await prepare_data(ctx, balances)
        await ctx.start_service()
        read_args = ctx.wrk_args("benchreader")
        await wrk(ctx, "one_sku", read_args, duration_s=ctx.options.warmup_s, rate=READ_RATE)
        read = await wrk(ctx, "one_sku", read_args, rate=READ_RATE)
        ctx.add(
            row_from_load(
                f"growth.{label}.read", f"growth {label}: one-SKU read @{READ_RATE}/s", read
            )
        )
        prefix = f"bg-{label}-{ctx.run_id}"
        reserve_args = ctx.wrk_args("benchwebshop", mode="spread", prefix=prefix, ttl=TTL_S)
        reserve = await wrk(ctx, "reserve", reserve_args, rate=RESERVE_RATE)
        title = f"growth {label}: reservation @{RESERVE_RATE}/s"
        row = ctx.add(row_from_load(f"growth.{label}.reserve", title, reserve))
        await checked(ctx, row, prefix, reserve.ok)
        figures[label] = {
            "balances": float(balances),
            "skus": float(cat.skus_for_scale(balances)),
            "read_p50_ms": read.p50_ms,
            "reserve_p50_ms": reserve.p50_ms,
        }
    await ctx.stop_service()
    ctx.extra["growth"] = figures
    labels = list(figures)
    if len(labels) >= 2:
        first, last = figures[labels[0]], figures[labels[-1]]
        span = f"{labels[-1]}_vs_{labels[0]}"
        ctx.extra["growth_ratios"] = {
            f"read_p50_{span}": _ratio(last["read_p50_ms"], first["read_p50_ms"]),
            f"reserve_p50_{span}": _ratio(last["reserve_p50_ms"], first["reserve_p50_ms"]),
        }


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return round(top / bottom, 3) if top and bottom else None
