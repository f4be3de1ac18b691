"""The figures of a run: one row per measurement, the ratios the targets use, a table
on the terminal and the same figures as JSON under bench/results/."""

from __future__ import annotations

import contextlib
import json
import platform
import re
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.procs import REPO
from bench.service_tree import git_state
from bench.wrk_runner import Load

if TYPE_CHECKING:
    from bench.options import Options

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    key: str
    title: str
    rate: float | None  # per second: requests answered, messages decided, transactions
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    errors: int = 0
    ok: int | None = None
    rejected: int | None = None
    exact: bool | None = None  # reservation scenarios: the exactness checks passed
    paced: float | None = None  # requests/s the load was held to; None: as fast as it goes
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def row_from_load(
    key: str, title: str, load: Load, note: str = "", paced: float | None = None
) -> Row:
    return Row(
        key=key,
        title=title,
        rate=round(load.rate, 1),
        p50_ms=round(load.p50_ms, 2),
        p99_ms=round(load.p99_ms, 2),
        max_ms=round(load.max_ms, 2),
        errors=load.errors,
        ok=load.ok,
        rejected=load.rejected,
        paced=round(paced, 1) if paced else None,
        note=note or load.error_sample[:120],
        details={"requests": load.requests, "duration_s": round(load.duration_s, 2)},
    )


@dataclass(frozen=True, slots=True)
class Ratio:
    key: str
    title: str
    numerator: str
    denominator: str
    target: str

    def per_round(self, rows: dict[str, Row]) -> list[float]:
        """The ratio within each round both rows were measured in (paired by round)."""
        top, bottom = rows.get(self.numerator), rows.get(self.denominator)
        if top is None or bottom is None:
            return []
        tops, bottoms = _rates_by_round(top), _rates_by_round(bottom)
        return [round(tops[n] / bottoms[n], 3) for n in sorted(tops) if bottoms.get(n)]

    def value(self, rows: dict[str, Row]) -> float | None:
        """The median of the per-round ratios; without rounds on both sides, the
        ratio of the two rows' (median) rates. Both figures always come from this run."""
        paired = self.per_round(rows)
        if paired:
            return round(statistics.median(paired), 3)
        top, bottom = rows.get(self.numerator), rows.get(self.denominator)
        if top is None or bottom is None or not top.rate or not bottom.rate:
            return None
        return round(top.rate / bottom.rate, 3)


def _rates_by_round(row: Row) -> dict[int, float]:
    """Round number -> rate, from the row's rounds (or the row itself, measured once in
    its round); empty for a row measured outside the rounds."""
    rounds = row.details.get("rounds")
    if not rounds:
        if "round" not in row.details or not row.rate:
            return {}
        return {int(row.details["round"]): row.rate}
    return {int(r["details"]["round"]): r["rate"] for r in rounds if r.get("rate")}


RATIOS = [
    Ratio(
        "availability_vs_framework",
        "one-SKU availability / framework ceiling",
        "one_sku.peak",
        "ceiling.framework",
        ">= 0.7",
    ),
    Ratio(
        "hot_drain_vs_broker",
        "hot-SKU message drain / broker ceiling",
        "messages.hot",
        "ceiling.broker",
        ">= 0.7",
    ),
    Ratio(
        "hot_vs_spread_drain",
        "hot-SKU drain / spread drain",
        "messages.hot",
        "messages.spread",
        ">= 0.9",
    ),
    Ratio(
        "http_hot_vs_pgbench_hot",
        "HTTP hot reservations / pgbench hot row (64 clients)",
        "reservations.http_hot",
        "ceiling.pg_reserve_hot",
        ">= 3",
    ),
    Ratio(
        "http_hot_vs_framework_post",
        "HTTP hot reservations / framework POST ceiling",
        "reservations.http_hot",
        "ceiling.framework_post",
        "-",
    ),
    Ratio(
        "http_spread_vs_pgbench_spread",
        "HTTP spread reservations / pgbench spread rows",
        "reservations.http_spread",
        "ceiling.pg_reserve_spread",
        "-",
    ),
    Ratio(
        "availability_vs_pg_point_read",
        "one-SKU availability / pgbench point read",
        "one_sku.peak",
        "ceiling.pg_point_read",
        "-",
    ),
    Ratio(
        "bookings_vs_http_hot",
        "pickup bookings / HTTP hot reservations",
        "pickups.book",
        "reservations.http_hot",
        "-",
    ),
]


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def table(
    rows: list[Row],
    ratios: dict[str, float | None],
    ratio_rounds: dict[str, list[float]],
    targets: list[tuple[str, str, str]],
) -> str:
    head = f"{'scenario':<46} {'rate/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6} {'ok':>8} {'refused':>8} {'exact':>5}"
    lines = [head, "-" * len(head)]
    for r in rows:
        exact = "-" if r.exact is None else ("yes" if r.exact else "NO")
        lines.append(
            f"{r.title[:46]:<46} {_fmt(r.rate):>10} {_fmt(r.p50_ms, 2):>8} {_fmt(r.p99_ms, 2):>8} "
            f"{_fmt(r.max_ms, 1):>8} {r.errors:>6} {_fmt(r.ok, 0) if r.ok is not None else '-':>8} "
            f"{_fmt(r.rejected, 0) if r.rejected is not None else '-':>8} {exact:>5}"
        )
        if r.note:
            lines.append(f"    {r.note}")
    lines += ["", f"{'ratio (median of the rounds)':<58} {'value':>8}  {'rounds':<15} target"]
    for ratio in RATIOS:
        paired = ratio_rounds.get(ratio.key) or []
        spread = f"{min(paired):.3f}-{max(paired):.3f}" if len(paired) > 1 else ""
        lines.append(
            f"{ratio.title:<58} {_fmt(ratios.get(ratio.key), 3):>8}  {spread:<15} {ratio.target}"
        )
    for title, value, target in targets:
        lines.append(f"{title:<58} {value:>8}  {'':<15} {target}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """The machine, and the harness's checkout (``commit``: the harness, not the service)."""
    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform()}
    with contextlib.suppress(OSError):
        info["cpus"] = len(Path("/proc/cpuinfo").read_text().split("processor")) - 1
    harness = git_state(REPO)
    info["commit"], info["harness_dirty"] = harness["commit"], harness["dirty"]
    return info


def result_path(options: Options, started: datetime, service: dict[str, Any]) -> Path:
    """``--out``, or bench/results/<UTC start>-<tag>.json; the tag defaults to the service's
    commit (with ``-dirty`` when its checkout has uncommitted changes)."""
    if options.out:
        return Path(options.out).expanduser().resolve()
    tag = options.tag
    if tag is None and service.get("commit"):
        tag = service["commit"] + ("-dirty" if service.get("dirty") else "")
    suffix = f"-{re.sub(r'[^A-Za-z0-9._-]+', '_', tag)}" if tag else ""
    return RESULTS / f"{started.strftime('%Y%m%dT%H%M%SZ')}{suffix}.json"


def write_json(payload: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def payload(
    options: dict[str, Any],
    rows: list[Row],
    ratios: dict[str, float | None],
    extra: dict[str, Any],
    started: datetime,
) -> dict[str, Any]:
    return {
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "options": options,
        "scenarios": {r.key: asdict(r) for r in rows},
        "ratios": ratios,
        **extra,
    }
