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
    service: asyncio.subprocess.Process | None = None
    worker: asyncio.subprocess.Process | None = None
    service_url: str = ""

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
        taking turns on its event loop (all share the machine's 2 cores).
        Returns the base URL once ready."""
        await self.stop_service()
        port = free_port()
        env, cwd = self.env(workers_in_process=False), self.tree.root
        serve = self.tree.argv("serve", "--host", HOST, "--port", str(port))
        self.service = await self.procs.start("service", serve, env, cwd=cwd)
        self.worker = await self.procs.start("worker", self.tree.argv("worker"), env, cwd=cwd)
        self.service_url = f"http://{HOST}:{port}"
        await wait_http_ok(f"{self.service_url}/health/ready", self.service)
        return self.service_url

    async def stop_service(self) -> None:
        for proc in (self.service, self.worker):
            if proc is not None:
                await self.procs.stop(proc)
        self.service = self.worker = None
