"""``--profile``: py-spy records the worker while it drains (collapsed stacks, one
file per drain under bench/results/), and a summary says where its CPU went.

py-spy samples another process from outside (no restart, no instrumentation); it
is installed into the venv from PyPI on first use.
"""

from __future__ import annotations

import asyncio
import collections
import signal
import subprocess
import sys
from pathlib import Path

from bench.procs import Processes
from bench.report import RESULTS

PY_SPY = Path(sys.executable).with_name("py-spy")
RATE_HZ = 250


def ensure_py_spy() -> None:
    if not PY_SPY.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)


class Recording:
    """py-spy attached to ``pid`` from now until ``finish``."""

    def __init__(self, procs: Processes, name: str, pid: int) -> None:
        self.procs, self.name, self.pid = procs, name, pid
        self.path = RESULTS / f"{name}.stacks.txt"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        RESULTS.mkdir(exist_ok=True)
        argv = [str(PY_SPY), "record", "--pid", str(self.pid), "--rate", str(RATE_HZ)]
        argv += ["--format", "raw", "--output", str(self.path), "--nonblocking"]
        self.proc = await self.procs.start(f"py-spy-{self.name}", argv)

    async def finish(self) -> Path | None:
        """Stop sampling (SIGINT makes py-spy write its file); the file, if written."""
        if self.proc is None or self.proc.returncode is not None:
            return self.path if self.path.exists() else None
        self.proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            await self.procs.stop(self.proc, grace_s=1)
        return self.path if self.path.exists() else None


def summary(stacks: Path, top: int = 12) -> list[tuple[float, str]]:
    """(share of samples, function) for the functions most often on the stack, just
    below the event loop: which of the worker's tasks used the CPU."""
    below_loop: collections.Counter[str] = collections.Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame.split(" (")[0] for frame in stack.split(";")]
        total += int(count)
        at = frames.index("Runner.run") if "Runner.run" in frames else -1
        task = frames[at + 1] if 0 <= at < len(frames) - 1 else "(idle, or outside the loop)"
        below_loop[task] += int(count)
    return [(round(100 * n / max(total, 1), 1), name) for name, n in below_loop.most_common(top)]
