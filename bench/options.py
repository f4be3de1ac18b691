"""Command-line options and the fixed names of the benchmark's own resources."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

DATABASE = "inventory_bench"
CEILING_DATABASE = "inventory_bench_ceiling"  # the copy the reserving pgbench scripts use
VHOST = "inventory-bench"
POSTGRES_BASE = "postgresql://postgres@127.0.0.1:5432"
AMQP_BASE = "amqp://guest:guest@127.0.0.1:5672"
HOST = "127.0.0.1"

# Special balances (see catalogue.py for the numbering).
HOT_SKU_NUMBER = 1  # SKU-000001 at its first store: the flash-sale SKU
HOT_ON_HAND = 10_000_000  # so that nothing runs out during a measurement
SELLOUT_SKU_NUMBER = 2  # SKU-000002 at its first store: sold out with a known stock
SELLOUT_UNITS = 2_000


def parse_count(text: str) -> int:
    """'10k' -> 10_000, '2m' -> 2_000_000, '2500' -> 2500."""
    value = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(value[-1:], 1)
    number = value[:-1] if factor > 1 else value
    try:
        parsed = int(float(number) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count: {text!r} (e.g. 10k, 2m)") from None
    if parsed < 1_000:
        raise argparse.ArgumentTypeError("at least 1k balances")
    return parsed


@dataclass(frozen=True, slots=True)
class Options:
    balances: int
    quick: bool
    growth: bool
    workers: int
    threads: int
    connections: int
    warmup_s: int
    duration_s: int
    messages: int
    rounds: int  # every scenario and ceiling is measured this many times, alternating
    pgbench_s: int
    pickup_stores: int
    only: frozenset[str]
    keep: bool
    profile: bool = False  # py-spy records the worker during each message drain
    service_tree: str | None = None  # run the service from this checkout's .venv
    compare: tuple[str, ...] = ()  # result files to compare this run with
    out: str | None = None  # where the JSON goes (default bench/results/<stamp>-<tag>.json)
    tag: str | None = None  # the tag in the default file name (default: the service's commit)
    serve_procs: int = 1  # `inventory serve` processes, each on its own port
    worker_procs: int = 1  # `inventory worker` processes, beside them and for each drain

    @property
    def http_processes(self) -> int:
        """The service's HTTP processes, which the framework ceiling gets as many of."""
        return self.workers * self.serve_procs

    @property
    def growth_scales(self) -> list[int]:
        return [10_000, 100_000, 1_000_000] if self.quick else [10_000, 1_000_000, 10_000_000]

    def wants(self, group: str) -> bool:
        return not self.only or group in self.only


GROUPS = ("reads", "reservations", "pickups", "messages", "ceilings")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark the inventory service against its ceilings (bench/README.md).",
    )
    p.add_argument(
        "--scale", type=parse_count, default=None, help="balances to seed: 10k, 2m (default), 10m"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small catalogue (10k balances), short runs, 2,000 messages",
    )
    p.add_argument(
        "--growth",
        action="store_true",
        help="also measure cost growth at 10k, 1m and 10m balances (reseeds; slow)",
    )
    p.add_argument("--workers", type=int, default=1, help="HTTP worker processes (both servers)")
    p.add_argument(
        "--serve-procs",
        type=int,
        default=1,
        metavar="N",
        help="`inventory serve` processes, each on its own port; wrk's threads are spread "
        "over them (docs/scaling.md)",
    )
    p.add_argument(
        "--worker-procs",
        type=int,
        default=1,
        metavar="M",
        help="`inventory worker` processes beside the service and for each message drain",
    )
    p.add_argument("--duration", type=int, default=None, help="seconds per measured run")
    p.add_argument("--messages", type=int, default=None, help="messages per drain scenario")
    p.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="rounds of every scenario and ceiling, alternating within each group; the table "
        "shows each row's median round (default 3; 1 with --quick)",
    )
    p.add_argument(
        "--only",
        action="append",
        choices=GROUPS,
        default=[],
        help="run only these scenario groups (repeatable)",
    )
    p.add_argument(
        "--keep", action="store_true", help="leave the database and vhost in place afterwards"
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="record the worker with py-spy during each message drain (bench/results/)",
    )
    p.add_argument(
        "--service-tree",
        metavar="DIR",
        default=None,
        help="run the service under test (migrate, serve, worker, verify-ledger) from the "
        "checkout DIR with DIR/.venv; the harness stays this checkout's",
    )
    p.add_argument(
        "--compare",
        metavar="OLD.json",
        action="append",
        default=[],
        help="after the run, compare it with these result files (repeatable: their rounds "
        "are pooled); see python -m bench.compare",
    )
    p.add_argument(
        "--out", metavar="FILE", default=None, help="write the JSON here instead of bench/results/"
    )
    p.add_argument(
        "--tag",
        default=None,
        help="name tag of the JSON file in bench/results/ (default: the service's commit)",
    )
    return p


def options_from(argv: list[str] | None = None) -> Options:
    args = parser().parse_args(argv)
    quick = bool(args.quick)
    return Options(
        balances=args.scale or (10_000 if quick else 2_000_000),
        quick=quick,
        growth=bool(args.growth),
        workers=max(1, args.workers),
        # One wrk thread per serve process at least: a thread talks to one address.
        threads=max(2, args.serve_procs),
        connections=64,
        warmup_s=1 if quick else 3,
        duration_s=args.duration or (3 if quick else 10),
        messages=args.messages or (2_000 if quick else 20_000),
        rounds=max(1, args.rounds or (1 if quick else 3)),
        pgbench_s=args.duration or (3 if quick else 10),
        pickup_stores=3 if quick else 10,
        only=frozenset(args.only),
        keep=bool(args.keep),
        profile=bool(args.profile),
        service_tree=args.service_tree,
        compare=tuple(args.compare),
        out=args.out,
        tag=args.tag,
        serve_procs=max(1, args.serve_procs),
        worker_procs=max(1, args.worker_procs),
    )
