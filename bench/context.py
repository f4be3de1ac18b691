"""What every scenario of a run shares: options, processes, addresses, the service."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import catalogue as cat
from bench.options import AMQP_BASE, DATABASE, HOST, POSTGRES_BASE, VHOST, Options
from bench.procs import Processes, clean_env, free_port, wait_http_ok
from bench.report import Row
from bench.seed import token
from bench.service_tree import ServiceTree

PICKUP_CODE_SECRET = "bench-pickup-code-secret-not-for-production"


@dataclass
class Context:
    options: Options
    procs: Processes
    work_dir: Path
    run_id: str
    tree: ServiceTree  # the service under test: this checkout or --service-tree
    nskus: int = 0
    rows: list[Row] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    freshness_lags: list[float] = field(default_factory=list)  # ms, every hot HTTP round
    services: list[asyncio.subprocess.Process] = field(default_factory=list)
    workers: list[asyncio.subprocess.Process] = field(default_factory=list)
    service_url: str = ""  # the first serve process; wrk spreads over all (spread_env)
    service_ports: list[int] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return f"{POSTGRES_BASE}/{DATABASE}"

    @property
    def amqp_url(self) -> str:
        return f"{AMQP_BASE}/{VHOST}"

    def env(self, *, workers_in_process: bool = True) -> dict[str, str]:
        """The service's environment, as production would set it."""
        return clean_env(
            {
                "INVENTORY_DATABASE_URL": self.dsn,
                "INVENTORY_AMQP_URL": self.amqp_url,
                "INVENTORY_ENVIRONMENT": "production",
                "INVENTORY_LOG_LEVEL": "warning",
                "INVENTORY_HTTP_WORKERS": str(self.options.workers),
                "INVENTORY_RUN_WORKERS_IN_PROCESS": "true" if workers_in_process else "false",
                "INVENTORY_PICKUP_CODE_SECRET": PICKUP_CODE_SECRET,
                # Sized to the catalogue, as an operator would: at 10 million balances
                # (250,000 SKUs) the default 100,000 SKUs left most reads to the database.
                "INVENTORY_AVAILABILITY_CACHE_SKUS": str(max(self.nskus + 1, 100_000)),
            }
        )

    def wrk_args(self, key_id: str, **extra: object) -> dict[str, object]:
        return {"token": token(key_id), "skus": self.nskus, **cat.lua_args(), **extra}

    def add(self, row: Row) -> Row:
        """A row of the table (with rounds: the median round, bench/rounds.py)."""
        self.rows.append(row)
        return self.measured(row)

    def measured(self, row: Row) -> Row:
        """Print a measurement as it is taken."""
        latency = f" p50 {row.p50_ms} ms p99 {row.p99_ms} ms" if row.p50_ms is not None else ""
        note = f"  {row.note}" if row.note else ""
        print(
            f"  {row.title}: {row.rate or 0:,.1f}/s{latency} errors {row.errors}{note}", flush=True
        )
        return row

    async def start_service(self) -> str:
        """The service as production deploys it: ``inventory serve`` for HTTP and
        ``inventory worker`` beside it (consumer, outbox relay, expiry sweeper), so the
        relay's publishing is scheduled by the OS beside the HTTP process instead of
        taking turns on its event loop (all share the machine's 2 cores). With
        ``--serve-procs N`` and ``--worker-procs M``, N serve processes (each on its own
        port, with its own pool and read model, as N replicas) and M workers (competing
        consumers of one queue). Returns the first one's base URL once all are ready."""
        await self.stop_service()
        env, cwd = self.env(workers_in_process=False), self.tree.root
        self.service_ports = [free_port() for _ in range(self.options.serve_procs)]
        for n, port in enumerate(self.service_ports):
            serve = self.tree.argv("serve", "--host", HOST, "--port", str(port))
            self.services.append(await self.procs.start(f"service-{n}", serve, env, cwd=cwd))
        for n in range(self.options.worker_procs):
            worker = await self.procs.start(f"worker-{n}", self.tree.argv("worker"), env, cwd=cwd)
            self.workers.append(worker)
        for port, proc in zip(self.service_ports, self.services, strict=True):
            await wait_http_ok(f"http://{HOST}:{port}/health/ready", proc)
        self.service_url = f"http://{HOST}:{self.service_ports[0]}"
        return self.service_url

    @property
    def service_down(self) -> bool:
        return not self.services or any(p.returncode is not None for p in self.services)

    def spread_env(self) -> dict[str, str]:
        """For wrk (bench/wrk/common.lua): its threads take the serve processes' ports in
        turn, so each process gets an equal share of the connections."""
        return {"BENCH_PORTS": ",".join(map(str, self.service_ports))}

    async def stop_service(self) -> None:
        for proc in (*self.services, *self.workers):
            await self.procs.stop(proc)
        self.services, self.workers = [], []
