"""The fault suite: ``python -m chaos.run [--short] [--only SCENARIO] [--known-ok]``.

Each scenario starts the service as production runs it (``inventory serve`` and
``inventory worker`` as separate processes, behind fault proxies, on a database and
a vhost of its own), sends a known workload, injects its fault, lets the service
recover, and checks the invariants (chaos/invariants.py) and its own promises
(chaos/behaviour.py). docs/reliability.md says what each promises and the figures.

Exit status: 0 when every check held; 1 when a check broke that is not a known defect
(chaos/verdict.py; none today), or a scenario could not run; 3 when only known defects
broke (0 with ``--known-ok``).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import uvloop

from bench.procs import REPO, Processes
from bench.service_tree import git_state, service_tree
from chaos import data
from chaos.cluster import PrivateCluster
from chaos.context import Context
from chaos.network_faults import broker_cut, database_black_hole, database_refused, database_restart
from chaos.options import Options, Size, parse
from chaos.process_faults import (
    serve_kill9,
    serve_sigterm,
    two_of_each,
    worker_kill9,
    worker_sigterm,
)
from chaos.proxies import Proxy
from chaos.resources import scene
from chaos.scene import Scene
from chaos.verdict import KNOWN_DEFECTS, Result


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    run: Callable[[Scene, Size], Awaitable[None]]
    title: str
    private_cluster: bool = False  # runs on a PostgreSQL cluster of its own (scene.cluster)


SCENARIOS = [
    Scenario("worker-kill9", worker_kill9, "kill -9 of the worker mid-drain, three times"),
    Scenario("serve-kill9", serve_kill9, "kill -9 of serve under concurrent HTTP load"),
    Scenario("worker-sigterm", worker_sigterm, "SIGTERM of the worker mid-drain"),
    Scenario("serve-sigterm", serve_sigterm, "SIGTERM of serve under HTTP load"),
    Scenario("db-refused", database_refused, "database connections reset, then refused"),
    Scenario("db-black-hole", database_black_hole, "database black-holed"),
    Scenario("db-restart", database_restart, "database restarted (private cluster)", True),
    Scenario("broker-cut", broker_cut, "broker cut off"),
    Scenario("two-of-each", two_of_each, "two serve and two workers, one of each killed"),
]


async def run(options: Options) -> int:
    started = datetime.now(UTC)
    run_id = f"{started.strftime('%H%M%S')}_{secrets.token_hex(2)}"  # two runs never share names
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
            cluster = await PrivateCluster.create()
            atexit.register(cluster.remove_now)
            result.figures["private_cluster"] = f"{cluster.root} on port {cluster.port}"
        async with scene(ctx, result, cluster) as running:
            await scenario.run(running, size)
            await running.check_invariants()
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if cluster is not None and not ctx.options.keep:
            await cluster.remove()
    result.seconds = time.monotonic() - began
    _print_result(result)
    return result


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
        broken = list(dict.fromkeys(c.name for c in r.checks if not c.held))
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
    # uvloop, as the service runs: the suite's clients take less of the two cores from it.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(run(options))


if __name__ == "__main__":
    sys.exit(main())
