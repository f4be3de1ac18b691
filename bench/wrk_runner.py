"""Run wrk with one of bench/wrk/*.lua and read the line its ``done`` prints."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.procs import Processes

LUA_DIR = Path(__file__).resolve().parent / "wrk"


@dataclass(frozen=True, slots=True)
class Load:
    """A wrk measurement: counts, rate and latency (milliseconds)."""

    requests: int
    duration_s: float
    ok: int
    rejected: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    error_sample: str

    @property
    def rate(self) -> float:
        """Answered requests per second (ok, refused and failed alike)."""
        return self.requests / self.duration_s if self.duration_s else 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


async def run_wrk(
    procs: Processes,
    script: str,
    url: str,
    args: dict[str, object],
    *,
    duration_s: int,
    threads: int,
    connections: int,
    rate: float | None = None,
    spread: dict[str, str] | None = None,
) -> Load:
    """Run ``bench/wrk/<script>.lua`` against ``url``; ``rate`` (requests/s) paces it;
    ``spread`` (BENCH_PORTS) spreads its threads over several ports of url's host."""
    env = {"BENCH_LUA_DIR": str(LUA_DIR), "PATH": "/usr/bin:/bin:/usr/local/bin", **(spread or {})}
    if rate:
        env["BENCH_RATE_PER_THREAD"] = f"{rate / threads:.3f}"
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_DIR / f"{script}.lua"),
        url,
        "--",
        *(f"{key}={value}" for key, value in args.items()),
    ]
    done = await procs.run(argv, timeout_s=duration_s + 60, env=env)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk {script} failed ({done.returncode}): {done.stderr or done.stdout}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    socket_errors = (
        raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"]
    )
    return Load(
        requests=raw["requests"],
        duration_s=raw["duration_us"] / 1e6,
        ok=raw["ok"],
        rejected=raw["rejected"],
        errors=raw["http_errors"] + socket_errors,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
        error_sample=raw["error_sample"],
    )
