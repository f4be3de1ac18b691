"""The fault suite: ``python -m chaos.run [--short] [--only SCENARIO] [--known-ok]``.

Each scenario starts the service as production runs it (``inventory serve`` and
``inventory worker`` as separate processes, behind fault proxies, on a database and
a vhost of its own), sends a known workload, injects its fault, lets the service
recover, and checks the invariants (chaos/invariants.py) and its own promises
(chaos/behaviour.py). docs/reliability.md says what each promises and the figures.

Exit status: 0 when every check held; 1 when a check broke that is not a known defect
of issue 12, or a scenario could not run; 3 when only known defects broke (0 with
``--known-ok``).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.procs import REPO, Processes
from bench.service_tree import git_state, service_tree
from chaos import data, network_faults, process_faults
from chaos.cluster import PrivateCluster
from chaos.options import Options, Size, parse
from chaos.proxies import Proxy
from chaos.scene import Context, Scene, scene
from chaos.verdict import KNOWN_DEFECTS, Result


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    run: Callable[..., Awaitable[None]]
    private_cluster: bool = False  # runs on a PostgreSQL cluster of its own


SCENARIOS = [
    Scenario(
        "worker-kill9", "kill -9 of the worker mid-drain, three times", process_faults.worker_kill9
    ),
    Scenario(
        "serve-kill9", "kill -9 of serve under concurrent HTTP load", process_faults.serve_kill9
    ),
    Scenario("worker-sigterm", "SIGTERM of the worker mid-drain", process_faults.worker_sigterm),
    Scenario("serve-sigterm", "SIGTERM of serve under HTTP load", process_faults.serve_sigterm),
    Scenario(
        "db-refused", "database connections reset, then refused", network_faults.database_refused
    ),
    Scenario("db-black-hole", "database black-holed", network_faults.database_black_hole),
    Scenario(
        "db-restart", "database restarted (private cluster)", network_faults.database_restart, True
    ),
    Scenario("broker-cut", "broker cut off", network_faults.broker_cut),
    Scenario(
        "two-of-each", "two serve and two workers, one of each killed", process_faults.two_of_each
    ),
]


async def run(options: Options) -> int:
    started = datetime.now(UTC)
    run_id = started.strftime("%H%M%S")
    log_dir = Path(tempfile.mkdtemp(prefix="inventory-chaos-"))
    procs = Processes(log_dir)
    atexit.register(procs.kill_all_now)
    atexit.register(Proxy.kill_all)
    tree = service_tree(None)
    ctx = Context(options, procs, tree, log_dir, run_id, f"chaos_{run_id}_template")
    chosen = _chosen(options)
    print(
        f"inventory chaos ({'short' if options.short else 'long'}): "
        f"{len(chosen)} scenarios; logs in {log_dir}",
        flush=True,
    )
    clock = time.monotonic()
    results: list[Result] = []
    try:
        await data.build(procs, tree, data.SHARED_BASE, ctx.template)
        for scenario in chosen:
            results.append(await _one(ctx, scenario, options.size))
    finally:
        await procs.stop_all()
        if not options.keep:
            with contextlib.suppress(Exception):
                await data.drop_database(data.SHARED_BASE, ctx.template)
    return _finish(options, results, started, time.monotonic() - clock, log_dir)


def _chosen(options: Options) -> list[Scenario]:
    if options.only:
        return [s for s in SCENARIOS if s.name in options.only]
    return SCENARIOS


async def _one(ctx: Context, scenario: Scenario, size: Size) -> Result:
    result = Result(scenario.name, scenario.title)
    print(f"\n== {scenario.name}: {scenario.title}", flush=True)
    began = time.monotonic()
    cluster = None
    try:
        if scenario.private_cluster:
            cluster = await PrivateCluster.create(ctx.procs)
            result.figures["private_cluster_port"] = cluster.port
        async with scene(ctx, result, cluster) as running:
            await _fault_and_check(running, scenario, size, cluster)
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if cluster is not None and not ctx.options.keep:
            await cluster.remove()
    result.seconds = time.monotonic() - began
    _print_result(result)
    return result


async def _fault_and_check(
    running: Scene, scenario: Scenario, size: Size, cluster: PrivateCluster | None
) -> None:
    if scenario.private_cluster:
        await scenario.run(running, size, cluster)
    else:
        await scenario.run(running, size)
    await running.check_invariants()


def _print_result(result: Result) -> None:
    print(f"  {result.verdict} {result.name} in {result.seconds:.0f}s", flush=True)
    for key, value in result.figures.items():
        print(f"    {key}: {value}", flush=True)
    for check in result.checks:
        print(check.line(), flush=True)
    if result.error:
        print(f"    ERROR {result.error}", flush=True)


def _finish(
    options: Options, results: list[Result], started: datetime, seconds: float, log_dir: Path
) -> int:
    print("\n== summary", flush=True)
    for r in results:
        broken = [c.name for c in r.checks if not c.held]
        print(
            f"  {r.verdict:6} {r.name:15} {r.seconds:5.0f}s  "
            f"{len(r.checks) - len(broken)}/{len(r.checks)} held"
            + (f"; broken: {', '.join(broken)}" if broken else "")
            + (f"; {r.error}" if r.error else "")
        )
    quiet = sorted({name for r in results for name in r.quiet_defects()})
    if quiet:
        print(f"  known defects that held this time: {', '.join(quiet)}")
    print(f"  total {seconds:.0f}s; logs in {log_dir}", flush=True)
    _write(options, results, started, seconds)
    verdicts = {r.verdict for r in results}
    if verdicts & {"FAIL", "ERROR"}:
        return 1
    if "KNOWN" in verdicts and not options.known_ok:
        return 3
    return 0


def _write(options: Options, results: list[Result], started: datetime, seconds: float) -> None:
    path = (
        Path(options.out)
        if options.out
        else (REPO / "chaos" / "results" / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "version": "short" if options.short else "long",
        "service": git_state(REPO),
        "known_defects": {k: {"defect": d, "what": w} for k, (d, w) in KNOWN_DEFECTS.items()},
        "scenarios": [r.as_dict() for r in results],
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"  results: {path}", flush=True)


def main(argv: list[str] | None = None) -> int:
    options = parse(argv, [s.name for s in SCENARIOS])
    return asyncio.run(run(options))


if __name__ == "__main__":
    sys.exit(main())
