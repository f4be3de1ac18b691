"""The benchmark suite: ``python -m bench.run [--quick] [--scale 2m] [--growth]``.

Order of a run (bench/README.md explains each figure):
1. fresh database and vhost, migrated by the service under test, seeded through COPY;
   a copy of the seeded database for the pgbench scripts that reserve;
2. ``inventory serve`` and ``inventory worker`` as production runs them; the read
   rounds, then the write rounds (HTTP reservations, pickups), each scenario
   alternating with its ceilings; the sell-out once;
3. service stopped; the message rounds: drains (spread, hot) and the broker ceiling;
4. the final ledger check, optional cost growth, the table and the JSON file;
5. with ``--compare``, the before/after table against the older result files.
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

from bench import ceilings, compare, exactness, profiles, report
from bench.context import Context
from bench.growth import growth
from bench.http_rounds import read_rounds, write_rounds
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
        if options.wants("reservations") or options.wants("ceilings"):
            await ceilings.copy_database()
        await http_groups(ctx)
        if options.wants("messages") or options.wants("ceilings"):
            work = message_scenarios(ctx, drains=options.wants("messages"), ceiling=True)
            await guarded(ctx, "messages", work)
        ledger_ok, line = await exactness.verify_ledger(procs, tree, ctx.env())
        ctx.extra["final_ledger"] = {"verified": ledger_ok, "message": line}
        print(f"- final ledger check: {line}", flush=True)
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


async def http_groups(ctx: Context) -> None:
    """The read rounds, then the write rounds. A group brings its own ceilings;
    ``--only ceilings`` runs the ceilings alone (no service needed then)."""
    o = ctx.options
    reads, reservations, bookings = (o.wants(g) for g in ("reads", "reservations", "pickups"))
    if reads or reservations or bookings:
        url = await ctx.start_service()
        print(
            f"- service up at {url} (production settings, {o.serve_procs} serve process(es) "
            f"of {o.workers} HTTP worker(s), {o.worker_procs} worker process(es))"
        )
    if reads or o.wants("ceilings"):
        await guarded(ctx, "reads", read_rounds(ctx, reads=reads, with_ceilings=True))
    if reservations or bookings or o.wants("ceilings"):
        if (reservations or bookings) and ctx.service_down:
            await ctx.start_service()  # a failed group may have left it down
        work = write_rounds(
            ctx,
            reservations=reservations,
            bookings=bookings,
            with_ceilings=reservations or o.wants("ceilings"),
        )
        await guarded(ctx, "writes", work)


async def guarded(ctx: Context, name: str, work: Coroutine[Any, Any, None]) -> None:
    """Run one scenario group; a failure is recorded and the run goes on."""
    try:
        await work
    except Exception as exc:
        failure = f"{name}: {type(exc).__name__}: {exc}"
        ctx.failures.append(failure)
        print(f"  FAILED {failure}", flush=True)


def finish(ctx: Context, started: datetime) -> int:
    """Print the table, write the JSON, compare (``--compare``); the exit status:
    1 when a check or a scenario failed, 3 when only the comparison found a
    regression, otherwise 0."""
    rows = {r.key: r for r in ctx.rows}
    ratios = {ratio.key: ratio.value(rows) for ratio in report.RATIOS}
    ratio_rounds = {ratio.key: ratio.per_round(rows) for ratio in report.RATIOS}
    targets = target_lines(ctx, rows)
    print()
    print(report.table(ctx.rows, ratios, ratio_rounds, targets))
    options = dataclasses.asdict(ctx.options)
    options["only"] = sorted(ctx.options.only)
    service = ctx.tree.describe()
    ctx.extra.update(
        work_dir=str(ctx.work_dir), failures=ctx.failures, service=service,
        ratio_rounds=ratio_rounds,
    )  # fmt: skip
    path = report.result_path(ctx.options, started, service)
    report.write_json(report.payload(options, ctx.rows, ratios, ctx.extra, started), path)
    print(f"\nfigures written to {_shown(path)}")
    exact = all(r.exact is not False for r in ctx.rows)
    ledger = ctx.extra.get("final_ledger", {}).get("verified", False)
    errors = sum(r.errors for r in ctx.rows)
    regressions = 0
    if ctx.options.compare:
        print()
        regressions = compare.print_comparison([Path(p) for p in ctx.options.compare], [path])
    if ctx.failures:
        print("FAILED scenarios:\n  " + "\n  ".join(ctx.failures), file=sys.stderr)
    if not exact or not ledger:
        print("EXACTNESS FAILED: see the rows marked NO above", file=sys.stderr)
        return 1
    if errors:
        print(f"note: {errors} request(s) failed; see the notes above", file=sys.stderr)
    if ctx.failures:
        return 1
    return 3 if regressions else 0


def _shown(path: Path) -> Path:
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


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
    for old in options.compare:
        if not Path(old).is_file():
            print(f"bench: --compare {old}: no such file", file=sys.stderr)
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
