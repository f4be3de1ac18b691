"""Subprocesses of a benchmark run: each in its own process group, every one stopped on exit.

Every command is bounded: ``run`` kills the group when its timeout passes, and
``Processes.stop_all`` (called from the run's ``finally``) ends whatever is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment without any INVENTORY_* of the caller, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    env.update(extra)
    return env


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


class Processes:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._running: dict[int, tuple[str, asyncio.subprocess.Process]] = {}

    async def start(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str] | None = None,
        cwd: Path = REPO,
    ) -> asyncio.subprocess.Process:
        """Start a long-running process; its output goes to ``<log_dir>/<name>.log``, after
        a first line saying what ran where."""
        log = (self.log_dir / f"{name}.log").open("ab")
        log.write(f"$ cd {cwd} && {' '.join(argv)}\n".encode())
        log.flush()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=cwd,
                env=dict(env) if env else None,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        self._running[proc.pid] = (name, proc)
        return proc

    async def run(
        self,
        argv: list[str],
        *,
        timeout_s: float,
        env: Mapping[str, str] | None = None,
        cwd: Path = REPO,
    ) -> Completed:
        """Run a command to completion (killed after ``timeout_s``); returns its output."""
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=dict(env) if env else None,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        self._running[proc.pid] = (argv[0], proc)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
        except TimeoutError:
            await self.stop(proc, grace_s=2)
            raise RuntimeError(f"{' '.join(argv[:3])} ... ran over {timeout_s:.0f}s") from None
        finally:
            self._running.pop(proc.pid, None)
        return Completed(
            proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")
        )

    async def stop(self, proc: asyncio.subprocess.Process, grace_s: float = 15.0) -> None:
        """SIGTERM the process group, then SIGKILL after ``grace_s``."""
        self._running.pop(proc.pid, None)
        if proc.returncode is not None:
            return
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), grace_s)
        except TimeoutError:
            _signal_group(proc.pid, signal.SIGKILL)
            await proc.wait()

    async def stop_all(self) -> None:
        for _name, proc in list(self._running.values()):
            await self.stop(proc, grace_s=5)

    def kill_all_now(self) -> None:
        """Last resort (interpreter exit): SIGKILL every group still known."""
        for _name, proc in list(self._running.values()):
            if proc.returncode is None:
                _signal_group(proc.pid, signal.SIGKILL)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


async def wait_http_ok(url: str, proc: asyncio.subprocess.Process, timeout_s: float = 900) -> None:
    """Poll ``url`` until it answers 200. Raises RuntimeError if the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"the server exited with {proc.returncode} before {url} was up")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not ready within {timeout_s:.0f}s")


def python() -> str:
    return sys.executable
