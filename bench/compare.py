"""Before and after: the medians of two sets of result files, row by row.

    python -m bench.compare OLD.json [OLD2.json ...] --new NEW.json [NEW2.json ...]

Each side pools the rounds of all its files (``details.rounds`` of every row, or the
row itself when it ran once) and takes the median of the rates and, separately, of
the p99s. A ratio is never formed across files: each side's ratio is the median of
the per-round ratios its own runs recorded (``ratio_rounds``; a file without them
gives its one ratio), so both figures of a ratio always come from the same run.

A regression, as the issue "One path per command" defines it: a throughput median
that drops more than 5 %, or a p99 median that rises more than 20 %. Judged are the
service's rows; rows paced at a fixed rate (half the peak, growth) by their p99 only;
the ceilings are shown, not judged (they are the harness and the machine: when they
moved too, so did the machine); the sell-out is a check, not a figure. The exit
status is 1 when a regression was found, 0 when none, 2 when a file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import RATIOS

RATE_DROP_PCT = 5.0
P99_RISE_PCT = 20.0
MIN_ROUNDS = 3
# What two result files must share for their figures to be comparable.
SAME_OPTIONS = ("balances", "duration_s", "workers", "threads", "connections", "messages")


@dataclass
class Side:
    """The pooled rounds of one side's result files."""

    files: list[Path]
    payloads: list[dict[str, Any]]
    titles: dict[str, str] = field(default_factory=dict)
    rates: dict[str, list[float]] = field(default_factory=dict)
    p99s: dict[str, list[float]] = field(default_factory=dict)
    paced: set[str] = field(default_factory=set)
    ratios: dict[str, list[float]] = field(default_factory=dict)

    def rate(self, key: str) -> float | None:
        return _median(self.rates.get(key))

    def p99(self, key: str) -> float | None:
        return _median(self.p99s.get(key))

    def rounds(self, key: str) -> int:
        return len(self.rates.get(key) or self.p99s.get(key) or [])


def _median(values: list[float] | None) -> float | None:
    return statistics.median(values) if values else None


def load_side(paths: list[Path]) -> Side:
    side = Side(files=paths, payloads=[json.loads(path.read_text()) for path in paths])
    for payload in side.payloads:
        for key, row in payload.get("scenarios", {}).items():
            # Without the pace in the title: it differs from run to run (``paced`` has it).
            side.titles.setdefault(key, re.sub(r" \([\d,.]+/s\)", "", row.get("title", key)))
            if row.get("paced") is not None:
                side.paced.add(key)
            rounds = row.get("details", {}).get("rounds") or [row]
            side.rates.setdefault(key, []).extend(
                r["rate"] for r in rounds if r.get("rate") is not None
            )
            p99s = [r["p99_ms"] for r in rounds if r.get("p99_ms") is not None]
            if not p99s and row.get("p99_ms") is not None:  # rounds recorded without latency
                p99s = [row["p99_ms"]]
            side.p99s.setdefault(key, []).extend(p99s)
        per_round = payload.get("ratio_rounds", {})
        for key, value in payload.get("ratios", {}).items():
            found = per_round.get(key) or ([value] if value is not None else [])
            side.ratios.setdefault(key, []).extend(found)
    return side


def role(key: str, side: Side) -> str:
    """How a row is judged: throughput (rate and p99), paced (p99 only), ceiling, check."""
    if key.startswith("ceiling."):
        return "ceiling"
    if key in side.paced or key.endswith(".half") or key.startswith("growth."):
        return "paced"
    if key == "reservations.http_sellout":
        return "check"
    return "throughput"


def change_pct(old: float | None, new: float | None) -> float | None:
    if old is None or new is None or old == 0:
        return None
    return 100 * (new - old) / old


@dataclass
class Line:
    key: str
    title: str
    role: str
    old_rate: float | None
    new_rate: float | None
    old_p99: float | None
    new_p99: float | None
    rounds: tuple[int, int]
    regressions: list[str]


def compare(old: Side, new: Side) -> list[Line]:
    keys = list(new.titles) + [key for key in old.titles if key not in new.titles]
    lines = []
    for key in keys:
        judged = role(key, new if key in new.titles else old)
        line = Line(
            key,
            new.titles.get(key) or old.titles[key],
            judged,
            old.rate(key),
            new.rate(key),
            old.p99(key),
            new.p99(key),
            (old.rounds(key), new.rounds(key)),
            [],
        )
        rate_change = change_pct(line.old_rate, line.new_rate)
        p99_change = change_pct(line.old_p99, line.new_p99)
        if judged == "throughput" and rate_change is not None and rate_change < -RATE_DROP_PCT:
            line.regressions.append(f"rate {rate_change:+.1f} %")
        p99_rose = p99_change is not None and p99_change > P99_RISE_PCT
        if judged in ("throughput", "paced") and p99_rose:
            line.regressions.append(f"p99 {p99_change:+.1f} %")
        lines.append(line)
    return lines


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def _verdict(line: Line) -> str:
    if line.regressions:
        return "REGRESSION: " + ", ".join(line.regressions)
    if line.role in ("ceiling", "check"):
        return f"({line.role}, not judged)"
    if None in (line.old_rate, line.new_rate) and None in (line.old_p99, line.new_p99):
        return "(one side only)"
    return "ok"


def render(old: Side, new: Side, lines: list[Line]) -> str:
    out = [*_describe("old", old), *_describe("new", new), *warnings(old, new), ""]
    head = (
        f"{'row (median of the pooled rounds)':<44} {'rate old':>10} {'rate new':>10} {'change':>8}"
        f" {'p99 old':>8} {'p99 new':>8} {'change':>8} {'rounds':>7}  verdict"
    )
    out += [head, "-" * len(head)]
    for line in lines:
        out.append(
            f"{line.title[:44]:<44} {_num(line.old_rate):>10} {_num(line.new_rate):>10} "
            f"{_pct(change_pct(line.old_rate, line.new_rate)):>8} {_num(line.old_p99, 2):>8} "
            f"{_num(line.new_p99, 2):>8} {_pct(change_pct(line.old_p99, line.new_p99)):>8} "
            f"{line.rounds[0]:>3}/{line.rounds[1]:<3}  {_verdict(line)}"
        )
    out += ["", f"{'ratio (median of per-round ratios)':<58} {'old':>8} {'new':>8} {'change':>8}"]
    for key in list(new.ratios) + [k for k in old.ratios if k not in new.ratios]:
        before, after = _median(old.ratios.get(key)), _median(new.ratios.get(key))
        if before is None and after is None:
            continue
        out.append(
            f"{_ratio_title(key):<58} {_num(before, 3):>8} {_num(after, 3):>8} "
            f"{_pct(change_pct(before, after)):>8}"
        )
    regressions = [line for line in lines if line.regressions]
    out.append("")
    if regressions:
        out.append(
            f"REGRESSION in {len(regressions)} row(s) (throughput median down more than "
            f"{RATE_DROP_PCT:g} %, or p99 median up more than {P99_RISE_PCT:g} %): "
            + ", ".join(line.key for line in regressions)
        )
    else:
        out.append(
            f"no regression (no throughput median down more than {RATE_DROP_PCT:g} %, "
            f"no p99 median up more than {P99_RISE_PCT:g} %)"
        )
    return "\n".join(out)


def _ratio_title(key: str) -> str:
    return next((ratio.title for ratio in RATIOS if ratio.key == key), key)


def _describe(name: str, side: Side) -> list[str]:
    lines = [f"{name}: {len(side.files)} file(s)"]
    for path, payload in zip(side.files, side.payloads, strict=True):
        service = payload.get("service") or {}
        commit = service.get("commit") or "not recorded"
        if service.get("dirty"):
            commit += " (uncommitted changes)"
        options = payload.get("options", {})
        lines.append(
            f"  {path.name}: service {commit}, harness {payload.get('machine', {}).get('commit')},"
            f" {options.get('balances', 0):,} balances, {options.get('rounds', 1)} round(s) of "
            f"{options.get('duration_s')} s, started {payload.get('started_at', '?')[:19]}"
        )
    return lines


def warnings(old: Side, new: Side) -> list[str]:
    """What makes the two sides less comparable than they look."""
    found = []
    payloads = old.payloads + new.payloads
    for name in SAME_OPTIONS:
        values = {str(p.get("options", {}).get(name)) for p in payloads}
        if len(values) > 1:
            found.append(f"warning: the files differ in {name} ({', '.join(sorted(values))})")
    harnesses = {p.get("machine", {}).get("commit") for p in payloads}
    if len(harnesses) > 1:
        found.append(
            "warning: different harness commits measured the two sides "
            f"({', '.join(sorted(str(h) for h in harnesses))}); the same harness is fairer"
        )
    for side_name, side in (("old", old), ("new", new)):
        for path, payload in zip(side.files, side.payloads, strict=True):
            if payload.get("failures"):
                found.append(
                    f"warning: {side_name} {path.name} had failures: {payload['failures']}"
                )
            inexact = [
                k for k, r in payload.get("scenarios", {}).items() if r.get("exact") is False
            ]
            if inexact:
                found.append(f"warning: {side_name} {path.name} was not exact in {inexact}")
        few = sorted(k for k in side.titles if 0 < side.rounds(k) < MIN_ROUNDS)
        if few:
            found.append(
                f"note: {side_name} pools fewer than {MIN_ROUNDS} rounds for {len(few)} row(s): "
                "a median of fewer than 3 is not yet a measurement"
            )
    return found


def print_comparison(old_paths: list[Path], new_paths: list[Path]) -> int:
    """Print the before/after table; returns the number of rows that regressed."""
    old, new = load_side(old_paths), load_side(new_paths)
    lines = compare(old, new)
    print(render(old, new, lines))
    return sum(1 for line in lines if line.regressions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.compare",
        description="Compare the medians of benchmark result files, before and after "
        "(bench/README.md). Exit status 1 on a regression.",
    )
    parser.add_argument("old", nargs="+", type=Path, help="result files of the old tree")
    parser.add_argument(
        "--new", nargs="+", type=Path, required=True, help="result files of the new tree"
    )
    args = parser.parse_args(argv)
    try:
        regressions = print_comparison(args.old, args.new)
    except (OSError, ValueError) as exc:
        print(f"bench.compare: {exc}", file=sys.stderr)
        return 2
    return 1 if regressions else 0


if __name__ == "__main__":
    raise SystemExit(main())
