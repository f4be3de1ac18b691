"""Command-line options and the two sizes of a run: the long one (``make chaos``) and
the short one CI can afford (``make chaos-short``, ``--short``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Size:
    drain_messages: int  # pre-published, then drained by a worker that is faulted
    http_requests: int  # HTTP reservations, sent by ``clients`` concurrent clients
    clients: int
    live_messages: int  # published at ``message_rate`` while the HTTP load runs
    message_rate: float
    serve_kills: int  # kill -9 of serve under HTTP load
    outage_s: float  # database refused, broker cut
    hole_s: float  # database black-holed (longer than ANSWER_DEADLINE_S)
    restart_down_s: float  # the private cluster stopped for this long, then started


LONG = Size(
    drain_messages=5_000,
    http_requests=4_000,
    clients=16,
    live_messages=1_500,
    message_rate=100,
    serve_kills=2,
    outage_s=10,
    hole_s=12,
    restart_down_s=5,
)
SHORT = Size(
    drain_messages=4_000,
    http_requests=1_200,
    clients=16,
    live_messages=400,
    message_rate=100,
    serve_kills=1,
    outage_s=5,
    hole_s=8,
    restart_down_s=3,
)


@dataclass(frozen=True, slots=True)
class Options:
    short: bool
    only: tuple[str, ...]
    keep: bool
    known_ok: bool
    out: str | None

    @property
    def size(self) -> Size:
        return SHORT if self.short else LONG


def parse(argv: list[str] | None, names: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m chaos.run",
        description="The fault suite: the service as production runs it, a known workload, "
        "a fault, the invariants (docs/reliability.md).",
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help="the CI version: every scenario with a smaller workload and shorter faults",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=names,
        default=[],
        metavar="SCENARIO",
        help=f"run only this one (repeatable): {', '.join(names)}",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the databases, vhosts and the private cluster (to look at them)",
    )
    parser.add_argument(
        "--known-ok",
        action="store_true",
        help="exit 0 when only defects listed in chaos/verdict.py (KNOWN_DEFECTS; none today) broke",
    )
    parser.add_argument(
        "--out", help="where the JSON result goes (default chaos/results/<UTC start>.json)"
    )
    args = parser.parse_args(argv)
    return Options(args.short, tuple(args.only), args.keep, args.known_ok, args.out)
