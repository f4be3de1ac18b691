"""Ceilings measured in the same run, so that the service's figures become ratios:

- framework: bench/ceiling_app.py (constant JSON on the one-SKU route) under granian,
  same workers, same wrk script as the one-SKU scenario; and the same for the
  reservation POST (same bodies, decoded into the service's struct, constant answer);
- database: pgbench with bench/pgbench/*.sql (point read; one reservation per
  transaction on the hot row and on spread rows);
- broker: bench/broker_ceiling.py (decode and ack, same prefetch), see messages.py.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import asyncpg

from bench import catalogue as cat
from bench.context import Context
from bench.options import DATABASE, HOST, HOT_SKU_NUMBER
from bench.procs import free_port, python, wait_http_ok
from bench.report import Row, row_from_load
from bench.seed import hot_balance
from bench.wrk_runner import run_wrk

PGBENCH_DIR = Path(__file__).resolve().parent / "pgbench"


async def framework(ctx: Context) -> None:
    o = ctx.options
    print(
        f"- framework ceiling: constant JSON, Litestar under granian, {o.workers} worker(s)",
        flush=True,
    )
    port = free_port()
    app = await ctx.procs.start(
        "ceiling-app",
        [python(), "-m", "bench.ceiling_app", "--port", str(port), "--workers", str(o.workers)],
    )
    url = f"http://{HOST}:{port}"
    try:
        await wait_http_ok(f"{url}/", app)
        args = ctx.wrk_args("benchreader")
        common = {"threads": o.threads, "connections": o.connections}
        # one_sku.lua, as the one-SKU scenario: the same random URLs and headers.
        await run_wrk(ctx.procs, "one_sku", url, args, duration_s=o.warmup_s, **common)
        load = await run_wrk(ctx.procs, "one_sku", url, args, duration_s=o.duration_s, **common)
        # reserve.lua, as the hot HTTP scenario: the same bodies, decoded, a constant answer.
        location_id, sku = hot_balance()
        post_args = ctx.wrk_args(
            "benchwebshop", mode="hot", prefix="ceiling", ttl=3600, location=location_id, sku=sku
        )
        await run_wrk(ctx.procs, "reserve", url, post_args, duration_s=o.warmup_s, **common)
        post = await run_wrk(
            ctx.procs, "reserve", url, post_args, duration_s=o.duration_s, **common
        )
    finally:
        await ctx.procs.stop(app)
    ctx.add(row_from_load("ceiling.framework", "ceiling: framework (constant JSON)", load))
    ctx.add(row_from_load("ceiling.framework_post", "ceiling: framework POST (body decoded)", post))


PGBENCH_RUNS = [
    # key, title, script, clients
    ("ceiling.pg_point_read", "ceiling: pgbench point read (8 clients)", "point_read", 8),
    ("ceiling.pg_reserve_hot", "ceiling: pgbench 1 reservation/tx, hot row", "reserve_hot", 64),
    (
        "ceiling.pg_reserve_spread",
        "ceiling: pgbench 1 reservation/tx, spread",
        "reserve_spread",
        64,
    ),
]


async def database(ctx: Context) -> None:
    """pgbench runs. They reserve units without reservation rows, so they run after every
    exactness check; their movements keep the ledger exact (verified at the end)."""
    hot_store = cat.store_of(HOT_SKU_NUMBER, 0)
    variables = {
        **cat.lua_args(),
        "skus": ctx.nskus,
        "warehouses": cat.WAREHOUSES,
        "hot_store": hot_store,
        "hot_sku": HOT_SKU_NUMBER,
    }
    for key, title, script, clients in PGBENCH_RUNS:
        print(f"- {title}", flush=True)
        try:
            ctx.add(await pgbench(ctx, key, title, script, clients, variables))
        except Exception as exc:
            ctx.failures.append(f"{title}: {exc}")
            print(f"  FAILED {title}: {exc}", flush=True)


async def pgbench(
    ctx: Context, key: str, title: str, script: str, clients: int, variables: dict[str, object]
) -> Row:
    log_dir = ctx.work_dir / f"pgbench-{script}"
    log_dir.mkdir(exist_ok=True)
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
        DATABASE,
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
        details={"clients": clients, "duration_s": duration},
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
