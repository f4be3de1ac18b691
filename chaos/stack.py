"""One scenario's copy of production: a database and a vhost of its own, a fault proxy
in front of PostgreSQL and one in front of RabbitMQ, and the service's processes as
production runs them (``inventory serve`` and ``inventory worker``, separately, with
production settings and small pools), all connected through the proxies.

The suite plays the supervisor: it kills, stops and restarts those processes. A
killed process loses its whole process group (granian's workers with it), as a
crashed container does; SIGTERM goes to the process itself, as an orchestrator
sends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import Processes, clean_env, free_port, wait_http_ok
from bench.service_tree import ServiceTree
from chaos.proxies import Proxy

POOL_MAX = 4  # PostgreSQL's 100 connections are shared with other suites
READY_WITHIN_S = 60.0
PICKUP_SECRET = "chaos-pickup-code-secret-not-for-production"


@dataclass
class Process:
    name: str  # "serve-1", "worker-2", …
    role: str  # "serve" or "worker"
    proc: asyncio.subprocess.Process
    log: Path
    port: int | None = None  # serve only; a restart binds the same port
    starts: int = 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc.returncode is None


@dataclass
class Stack:
    procs: Processes
    tree: ServiceTree
    slug: str  # the scenario's name: prefixes its logs
    log_dir: Path
    direct_dsn: str  # the scenario's database, not through the proxy (for checks)
    direct_amqp: str  # its vhost, not through the proxy
    database: str
    vhost: str
    pg: Proxy
    amqp: Proxy
    processes: list[Process] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """The service's environment, as production sets it, through the proxies."""
        return clean_env(
            {
                "PYTHONUNBUFFERED": "1",
                "INVENTORY_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{self.pg.port}/{self.database}",
                "INVENTORY_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{self.amqp.port}/{self.vhost}",
                "INVENTORY_ENVIRONMENT": "production",
                "INVENTORY_LOG_LEVEL": "info",
                "INVENTORY_RUN_WORKERS_IN_PROCESS": "false",
                "INVENTORY_PICKUP_CODE_SECRET": PICKUP_SECRET,
                "INVENTORY_DB_POOL_MIN": "1",
                "INVENTORY_DB_POOL_MAX": str(POOL_MAX),
            }
        )

    @property
    def serves(self) -> list[Process]:
        return [p for p in self.processes if p.role == "serve"]

    @property
    def workers(self) -> list[Process]:
        return [p for p in self.processes if p.role == "worker"]

    async def start(self, role: str, *, wait: bool = True) -> Process:
        """A new ``inventory serve`` or ``inventory worker``; with ``wait``, returns once
        it is ready (serve: ``/health/ready`` answers 200; worker: it says it runs)."""
        name = f"{role}-{sum(1 for p in self.processes if p.role == role) + 1}"
        log = self.log_dir / f"{self.slug}-{name}.log"
        port = free_port() if role == "serve" else None
        process = Process(name, role, await self._spawn(role, log, port, 1), log, port)
        self.processes.append(process)
        if wait:
            await self.ready(process)
        return process

    async def restart(self, process: Process, *, wait: bool = True) -> float:
        """Start ``process`` again (same name, same port); the seconds until ready."""
        began = time.monotonic()
        process.starts += 1
        process.proc = await self._spawn(process.role, process.log, process.port, process.starts)
        if wait:
            await self.ready(process)
        return time.monotonic() - began

    async def ready(self, process: Process, within_s: float = READY_WITHIN_S) -> None:
        if process.role == "serve":
            await wait_http_ok(f"{process.url}/health/ready", process.proc, within_s)
        else:
            await _wait_for_line(process, "worker running", within_s)

    async def _spawn(
        self, role: str, log: Path, port: int | None, starts: int
    ) -> asyncio.subprocess.Process:
        argv = self.tree.argv(role)
        if port is not None:
            argv += ["--host", "127.0.0.1", "--port", str(port)]
        with log.open("ab") as out:
            out.write(f"--- start {starts} at {time.strftime('%H:%M:%S')}\n".encode())
        return await self.procs.start(log.stem, argv, self.env(), cwd=self.tree.root)

    def kill(self, process: Process) -> None:
        """``kill -9`` of the process and its children."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.proc.pid, signal.SIGKILL)

    async def terminate(self, process: Process, grace_s: float) -> tuple[int | None, float]:
        """SIGTERM to the process; (exit status or None if it outlived ``grace_s`` and was
        killed, seconds it took)."""
        began = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.proc.pid, signal.SIGTERM)
        try:
            code: int | None = await asyncio.wait_for(process.proc.wait(), grace_s)
        except TimeoutError:
            self.kill(process)
            await process.proc.wait()
            code = None
        return code, time.monotonic() - began

    async def stop_all(self) -> None:
        for process in self.processes:
            await self.procs.stop(process.proc, grace_s=10)
        await self.pg.stop()
        await self.amqp.stop()


async def _wait_for_line(process: Process, text: str, within_s: float) -> None:
    """Until the process's log, since its latest start, has a line containing ``text``."""
    mark = f"--- start {process.starts} at"
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if process.proc.returncode is not None:
            raise RuntimeError(f"{process.name} exited with {process.proc.returncode} at start")
        log = process.log.read_text(errors="replace")
        if text in log[log.rfind(mark) :]:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{process.name} did not say {text!r} within {within_s:.0f}s")
