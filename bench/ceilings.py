"""Ceilings measured in the same run, so that the service's figures become ratios.
Each is one measurement returning its row; bench/http_rounds.py and
bench/message_scenarios.py alternate them with the scenarios they bound.

- framework: bench/ceiling_app.py (constant JSON on the one-SKU route) under granian,
  as many HTTP processes as the service (``--workers`` x ``--serve-procs``), same wrk script as the one-SKU scenario; and the same for the
  reservation POST (same bodies, decoded into the service's struct, constant answer);
- database: pgbench with bench/pgbench/*.sql (point read on the service's database;
  one reservation per transaction on the hot row and on spread rows, on the copy of
  the seeded database made for them, see ``copy_database``);
- broker: bench/broker_ceiling.py (decode and ack, same prefetch), see messages.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench import catalogue as cat
from bench.context import Context
from bench.options import CEILING_DATABASE, DATABASE, HOST, HOT_SKU_NUMBER, POSTGRES_BASE
from bench.procs import free_port, python, wait_http_ok
from bench.report import Row, row_from_load
from bench.seed import hot_balance
from bench.wrk_runner import Load, run_wrk

PGBENCH_DIR = Path(__file__).resolve().parent / "pgbench"


@contextlib.asynccontextmanager
async def framework_app(ctx: Context) -> AsyncIterator[str]:
    """The minimal Litestar app under granian, up for as long as the block runs; its URL."""
    port, workers = free_port(), ctx.options.http_processes
    app = await ctx.procs.start(
        "ceiling-app",
        [python(), "-m", "bench.ceiling_app", "--port", str(port), "--workers", str(workers)],
    )
    url = f"http://{HOST}:{port}"
    try:
        await wait_http_ok(f"{url}/", app)
        yield url
    finally:
        await ctx.procs.stop(app)


async def framework_get(ctx: Context, url: str, *, warm_up: bool) -> Row:
    """one_sku.lua, as the one-SKU scenario: the same random URLs and headers."""
    workers = ctx.options.http_processes
    print(f"- ceiling: framework, constant JSON ({workers} worker(s))", flush=True)
    args = ctx.wrk_args("benchreader")
    load = await _framework_wrk(ctx, url, "one_sku", args, warm_up)
    return ctx.measured(
        row_from_load("ceiling.framework", "ceiling: framework (constant JSON)", load)
    )


async def framework_post(ctx: Context, url: str, *, warm_up: bool) -> Row:
    """reserve.lua, as the hot HTTP scenario: the same bodies, decoded, a constant answer."""
    print("- ceiling: framework POST, body decoded, constant answer", flush=True)
    location_id, sku = hot_balance()
    args = ctx.wrk_args(
        "benchwebshop", mode="hot", prefix="ceiling", ttl=3600, location=location_id, sku=sku
    )
    load = await _framework_wrk(ctx, url, "reserve", args, warm_up)
    title = "ceiling: framework POST (body decoded)"
    return ctx.measured(row_from_load("ceiling.framework_post", title, load))


async def _framework_wrk(
    ctx: Context, url: str, script: str, args: dict[str, object], warm_up: bool
) -> Load:
    o = ctx.options
    if warm_up:
        await run_wrk(
            ctx.procs, script, url, args,
            duration_s=o.warmup_s, threads=o.threads, connections=o.connections,
        )  # fmt: skip
    return await run_wrk(
        ctx.procs, script, url, args,
        duration_s=o.duration_s, threads=o.threads, connections=o.connections,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PgbenchRun:
    key: str
    title: str
    script: str
    clients: int
    database: str  # the pgbench scripts that reserve run on the copy


PGBENCH_RUNS = {
    "point_read": PgbenchRun(
        "ceiling.pg_point_read", "ceiling: pgbench point read (8 clients)", "point_read", 8,
        DATABASE,
    ),
    "reserve_hot": PgbenchRun(
        "ceiling.pg_reserve_hot", "ceiling: pgbench 1 reservation/tx, hot row", "reserve_hot",
        64, CEILING_DATABASE,
    ),
    "reserve_spread": PgbenchRun(
        "ceiling.pg_reserve_spread", "ceiling: pgbench 1 reservation/tx, spread",
        "reserve_spread", 64, CEILING_DATABASE,
    ),
}  # fmt: skip


async def copy_database() -> None:
    """A copy of the seeded database for the pgbench scripts that reserve.

    They reserve units without reservation rows, which the exactness checks and
    ``verify-ledger`` (reserved equals the active reservations) would rightly report
    if they ran on the service's database. The copy has the very same schema (the
    service's own migrations), rows, indexes and statistics, so the ceiling measures
    what it did on the service's tables. Made right after seeding, while nothing is
    connected to the source (a template needs that); FILE_COPY copies the files
    instead of writing every page to the WAL."""
    admin = await asyncpg.connect(f"{POSTGRES_BASE}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{CEILING_DATABASE}" WITH (FORCE)')
        for attempt in range(5):
            try:
                await admin.execute(
                    f'CREATE DATABASE "{CEILING_DATABASE}" TEMPLATE "{DATABASE}" '
                    "STRATEGY = FILE_COPY"
                )
                return
            except asyncpg.ObjectInUseError:  # an autovacuum worker on the source
                if attempt == 4:
                    raise
                await asyncio.sleep(1)
    finally:
        await admin.close()


def pgbench_variables(ctx: Context) -> dict[str, object]:
    return {
        **cat.lua_args(),
        "skus": ctx.nskus,
        "warehouses": cat.WAREHOUSES,
        "hot_store": cat.store_of(HOT_SKU_NUMBER, 0),
        "hot_sku": HOT_SKU_NUMBER,
    }


async def pgbench_ceiling(ctx: Context, name: str) -> Row | None:
    """One pgbench run of ``PGBENCH_RUNS[name]``; a failure is recorded and the run goes
    on (returns None)."""
    run = PGBENCH_RUNS[name]
    print(f"- {run.title}", flush=True)
    try:
        return ctx.measured(await pgbench(ctx, run, pgbench_variables(ctx)))
    except Exception as exc:
        ctx.failures.append(f"{run.title}: {exc}")
        print(f"  FAILED {run.title}: {exc}", flush=True)
        return None


async def pgbench(ctx: Context, run: PgbenchRun, variables: dict[str, object]) -> Row:
    key, title, script, clients = run.key, run.title, run.script, run.clients
    log_dir = Path(tempfile.mkdtemp(prefix=f"pgbench-{script}-", dir=ctx.work_dir))
    duration = ctx.options.pgbench_s
    argv = [
        "pgbench",
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-n",
        "-M",
        "prepared",
        "-c",
        str(clients),
        "-j",
        str(min(clients, ctx.options.threads)),
        "-T",
        str(duration),
        "-f",
        str(PGBENCH_DIR / f"{script}.sql"),
        "-l",
        f"--log-prefix={log_dir}/tx",
        *(f"-D{name}={value}" for name, value in variables.items()),
        run.database,
    ]
    free = await free_connections(ctx.dsn)
    note = ""
    if free < clients + 2:  # other users of this PostgreSQL hold connections
        note = f"ran at {free - 2} clients, not {clients}: only {free} connections were free"
        clients = free - 2
        argv[argv.index("-c") + 1] = str(clients)
    done = await ctx.procs.run(argv, timeout_s=duration + 120, env=None)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench {script} failed: {done.stderr.strip()[-500:]}")
    latencies, failed = _read_logs(log_dir)
    summary = _summary_value(done.stdout, "tps = ")
    rate = summary if summary is not None else len(latencies) / duration
    ordered = sorted(latencies)
    return Row(
        key=key,
        title=title,
        rate=round(rate, 1),
        p50_ms=round(statistics.median(ordered) / 1000, 2) if ordered else None,
        p99_ms=round(ordered[int(0.99 * (len(ordered) - 1))] / 1000, 2) if ordered else None,
        max_ms=round(ordered[-1] / 1000, 2) if ordered else None,
        errors=failed + int(_summary_value(done.stdout, "number of failed transactions: ") or 0),
        ok=len(latencies),
        note=note,
        details={"clients": clients, "duration_s": duration, "database": run.database},
    )


async def free_connections(dsn: str) -> int:
    """Connections still free for an ordinary client (max_connections less the reserved
    ones and those in use)."""
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT current_setting('max_connections')::int"
                " - current_setting('superuser_reserved_connections')::int"
                " - (SELECT count(*) FROM pg_stat_activity)"
            )
        )
    finally:
        await conn.close()


def _read_logs(log_dir: Path) -> tuple[list[int], int]:
    """Per-transaction latencies (µs) from pgbench's logs, and the failed ones."""
    latencies: list[int] = []
    failed = 0
    for path in log_dir.glob("tx*"):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) < 3:
                continue
            if fields[2].isdigit():
                latencies.append(int(fields[2]))
            else:
                failed += 1
    return latencies, failed


def _summary_value(text: str, label: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(label):
            number = line[len(label) :].split()[0]
            try:
                return float(number)
            except ValueError:
                return None
    return None
