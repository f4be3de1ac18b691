"""A private PostgreSQL cluster for the fault that restarts the database: made with
``initdb`` in a temporary folder, on a port of its own, removed at the end. The
machine's shared server is never stopped or restarted.

PostgreSQL refuses to run as root, so when the suite runs as root the cluster's
commands run as the ``postgres`` user (``runuser``), which owns the folder.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.procs import free_port

BIN = Path(os.environ.get("CHAOS_PG_BIN", "/usr/lib/postgresql/15/bin"))
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "40",
    "shared_buffers": "32MB",
    "fsync": "off",  # the OS never crashes here; a restart loses nothing without it
    "log_min_messages": "warning",
}


class PrivateCluster:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.data = root / "data"
        self.port = port

    @property
    def base_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    @classmethod
    async def create(cls) -> PrivateCluster:
        """Make, configure and start it; on failure nothing is left behind."""
        root = Path(tempfile.mkdtemp(prefix="inventory-chaos-pg-"))
        cluster = cls(root, free_port())
        try:
            await cluster._init()
        except BaseException:
            cluster.remove_now()
            raise
        return cluster

    async def _init(self) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        await self._pg(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            timeout_s=120,
        )
        conf = "".join(f"{k} = {v}\n" for k, v in SETTINGS.items())
        conf += f"port = {self.port}\nunix_socket_directories = '{self.root}'\n"
        with (self.data / "postgresql.auto.conf").open("a") as auto:
            auto.write(conf)
        await self.start()

    async def start(self) -> None:
        await self._ctl("start", "-w", "-t", "60")

    async def restart(self, down_s: float) -> float:
        """A fast stop (every session terminated, as an operator's restart or a
        failover does), ``down_s`` seconds down (a large database takes that long to
        come back), a start; returns the seconds it was not accepting connections."""
        started = time.monotonic()
        await self._ctl("stop", "-m", "fast", "-w", "-t", "60")
        await asyncio.sleep(down_s)
        await self.start()
        return time.monotonic() - started

    async def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            await self._ctl("stop", "-m", "immediate", "-w", "-t", "60")
        shutil.rmtree(self.root, ignore_errors=True)

    def remove_now(self) -> None:
        """The same, without an event loop: at the interpreter's exit, if the suite was
        interrupted before ``remove``."""
        if (self.data / "postmaster.pid").exists():
            argv = self._argv("pg_ctl", "-D", str(self.data), "stop", "-m", "immediate", "-w")
            subprocess.run(argv, capture_output=True, check=False, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    async def _ctl(self, *args: str) -> None:
        log = str(self.root / "server.log")
        await self._pg("pg_ctl", "-D", str(self.data), "-l", log, *args, timeout_s=90)

    async def _pg(self, program: str, *args: str, timeout_s: float) -> None:
        """Run a PostgreSQL program, its output to ``commands.log``: never to a pipe, which
        the server that ``pg_ctl start`` leaves running could hold open (under uvloop it
        did, and the start seemed never to end)."""
        log_path = self.root / "commands.log"
        with log_path.open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                *self._argv(program, *args),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        try:
            code = await asyncio.wait_for(proc.wait(), timeout_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise RuntimeError(f"{program} ran over {timeout_s:.0f}s (see {log_path})") from None
        if code != 0:
            last = " ".join(log_path.read_text(errors="replace").strip().splitlines()[-1:])
            raise RuntimeError(f"{program} exited with {code}: {last} (see {log_path})")

    @staticmethod
    def _argv(program: str, *args: str) -> list[str]:
        argv = [str(BIN / program), *args]
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return argv
