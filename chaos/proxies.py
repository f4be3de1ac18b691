"""The suite's side of a fault proxy (chaos/proxy.py): start it, send it commands."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import ClassVar

from bench.procs import REPO


class Proxy:
    """One proxy process in front of ``target_port``; ``port`` is where the service
    connects instead."""

    started: ClassVar[set[Proxy]] = set()  # every proxy not stopped yet (see kill_all)

    def __init__(self, name: str, proc: asyncio.subprocess.Process, port: int) -> None:
        self.name = name
        self.proc = proc
        self.port = port
        self._lock = asyncio.Lock()
        Proxy.started.add(self)

    @classmethod
    def kill_all(cls) -> None:
        """Last resort at the interpreter's exit."""
        for proxy in list(cls.started):
            if proxy.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proxy.proc.pid, signal.SIGKILL)

    @classmethod
    async def start(cls, name: str, target_port: int, log_dir: Path) -> Proxy:
        log = (log_dir / f"proxy-{name}.log").open("ab")
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "chaos.proxy",
                str(target_port),
                cwd=REPO,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        finally:
            log.close()
        proxy = cls(name, proc, 0)
        try:
            first = await asyncio.wait_for(proc.stdout.readline(), 30) if proc.stdout else b""
        except TimeoutError:
            first = b"(nothing within 30s)"
        if not first.startswith(b"listening "):
            await proxy.stop()
            raise RuntimeError(f"proxy {name} did not start: {first!r}")
        proxy.port = int(first.split()[1])
        return proxy

    async def command(self, word: str) -> int:
        """Send ``cut``, ``down``, ``up``, ``hole``, ``flow`` or ``count``; returns the
        connections open after it."""
        stdin, stdout = self.proc.stdin, self.proc.stdout
        if stdin is None or stdout is None:
            raise RuntimeError(f"proxy {self.name} has no pipes")
        async with self._lock:
            stdin.write(f"{word}\n".encode())
            await stdin.drain()
            answer = (await asyncio.wait_for(stdout.readline(), 30)).decode().split()
        if answer[:2] != ["ok", word]:
            raise RuntimeError(f"proxy {self.name}: {word} answered {answer}")
        return int(answer[2])

    async def stop(self) -> None:
        Proxy.started.discard(self)
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            await self.proc.wait()
