"""The benchmark suite: ``python -m bench.run [--quick] [--scale 2m] [--growth]``.

Order of a run (bench/README.md explains each figure):
1. fresh database and vhost, migrated by the service, seeded through COPY;
2. ``inventory serve`` as production runs it; reads, HTTP reservations, pickups;
3. service stopped; reservations by message (spread, hot) and the broker ceiling;
4. the framework ceiling (unless the reads measured it just before the one-SKU
   scenario), then pgbench (last: it reserves without reservation rows);
5. the final ledger check, optional cost growth, the table and the JSON file.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import signal
import sys
import tempfile
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import ceilings, exactness, pickups, profiles, report, scenarios
from bench.context import Context
from bench.growth import growth
from bench.message_scenarios import message_scenarios
from bench.options import Options, options_from
from bench.procs import Processes
from bench.service_tree import ServiceTree, service_tree
from bench.setup import prepare_data, prepare_vhost, remove_all
from bench.wrk_runner import wrk_available


async def run(options: Options, tree: ServiceTree) -> int:
    started = datetime.now(UTC)
    work_dir = Path(tempfile.mkdtemp(prefix="inventory-bench-"))
    procs = Processes(work_dir)
    atexit.register(procs.kill_all_now)
    ctx = Context(options, procs, work_dir, run_id=started.strftime("%H%M%S"), tree=tree)
    print(f"inventory bench: logs and load data in {work_dir}", flush=True)
    print(f"- service under test: {tree.root} ({tree.python})", flush=True)
    clock = time.monotonic()
    if options.profile:
        profiles.ensure_py_spy()
    try:
        await prepare_vhost(ctx)
        await prepare_data(ctx, options.balances)
        await service_scenarios(ctx)
        if options.wants("messages"):
            await guarded(ctx, "messages", message_scenarios(ctx))
        # Before the pgbench ceilings: they reserve units without reservation rows,
        # which verify-ledger (reserved == active reservations) would rightly report.
        ledger_ok, line = await exactness.verify_ledger(procs, tree, ctx.env())
        ctx.extra["final_ledger"] = {"verified": ledger_ok, "message": line}
        print(f"- final ledger check: {line}", flush=True)
        if options.wants("ceilings"):
            await ctx.stop_service()
            if "ceiling.framework" not in {row.key for row in ctx.rows}:  # not yet measured
                await guarded(ctx, "framework ceiling", ceilings.framework(ctx))
            await ceilings.database(ctx)
        if options.growth:
            await guarded(ctx, "growth", growth(ctx))
    finally:
        await ctx.stop_service()
        await procs.stop_all()
        if not options.keep:
            with contextlib.suppress(Exception):
                await remove_all(ctx)
    ctx.extra["elapsed_s"] = round(time.monotonic() - clock, 1)
    return finish(ctx, started)


async def service_scenarios(ctx: Context) -> None:
    wanted = [g for g in ("reads", "reservations", "pickups") if ctx.options.wants(g)]
    if not wanted:
        return
    url = await ctx.start_service()
    print(f"- service up at {url} (production settings, {ctx.options.workers} worker(s))")
    groups = {
        "reads": scenarios.reads,
        "reservations": scenarios.reservations,
        "pickups": pickups.pickups,
    }
    for name in wanted:
        if ctx.service is None or ctx.service.returncode is not None:
            await ctx.start_service()  # a failed scenario may have left it down
        await guarded(ctx, name, groups[name](ctx))


async def guarded(ctx: Context, name: str, work: Coroutine[Any, Any, None]) -> None:
    """Run one scenario group; a failure is recorded and the run goes on."""
    try:
        await work
    except Exception as exc:
        failure = f"{name}: {type(exc).__name__}: {exc}"
        ctx.failures.append(failure)
        print(f"  FAILED {failure}", flush=True)


def finish(ctx: Context, started: datetime) -> int:
    rows = {r.key: r for r in ctx.rows}
    ratios = {ratio.key: ratio.value(rows) for ratio in report.RATIOS}
    targets = target_lines(ctx, rows)
    print()
    print(report.table(ctx.rows, ratios, targets))
    options = dataclasses.asdict(ctx.options)
    options["only"] = sorted(ctx.options.only)
    ctx.extra["work_dir"] = str(ctx.work_dir)
    ctx.extra["failures"] = ctx.failures
    ctx.extra["service"] = ctx.tree.describe()
    path = report.write_json(report.payload(options, ctx.rows, ratios, ctx.extra, started), started)
    print(
        f"\nfigures written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
    )
    exact = all(r.exact is not False for r in ctx.rows)
    ledger = ctx.extra.get("final_ledger", {}).get("verified", False)
    errors = sum(r.errors for r in ctx.rows)
    if ctx.failures:
        print("FAILED scenarios:\n  " + "\n  ".join(ctx.failures), file=sys.stderr)
    if not exact or not ledger:
        print("EXACTNESS FAILED: see the rows marked NO above", file=sys.stderr)
        return 1
    if errors:
        print(f"note: {errors} request(s) failed; see the notes above", file=sys.stderr)
    return 1 if ctx.failures else 0


def target_lines(ctx: Context, rows: dict[str, report.Row]) -> list[tuple[str, str, str]]:
    lines = []
    for key, title, limit in (
        ("one_sku.half", "one-SKU p99 at half the peak (ms)", "<= 10"),
        ("nearby.half", "nearby p99 at half the peak (ms)", "<= 20"),
        ("cart.half", "10-line cart p99 at half the peak (ms)", "<= 30"),
    ):
        row = rows.get(key)
        lines.append((title, f"{row.p99_ms:.2f}" if row and row.p99_ms is not None else "-", limit))
    lag = ctx.extra.get("freshness_lag_ms", {})
    lines.append(
        (
            "freshness lag p99 under hot reservations (ms)",
            f"{lag['p99']:.1f}" if lag.get("p99") is not None else "-",
            "<= 1000",
        )
    )
    for name, value in ctx.extra.get("growth_ratios", {}).items():
        lines.append((f"growth {name}", f"{value:.3f}" if value else "-", "<= 1.3"))
    return lines


def main(argv: list[str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    options = options_from(argv)
    if not wrk_available():
        print("bench: wrk is missing (bash bench/run.sh installs it)", file=sys.stderr)
        return 2
    tree = service_tree(options.service_tree)
    loop = asyncio.new_event_loop()
    task = loop.create_task(run(options, tree))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return loop.run_until_complete(task)
    except asyncio.CancelledError:
        print("bench: interrupted; subprocesses stopped", file=sys.stderr)
        return 130
    finally:
        loop.close()


if __name__ == "__main__":
    raise SystemExit(main())
