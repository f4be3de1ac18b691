"""Rounds: every measured row is taken ``--rounds`` times, its scenario alternating
with the ceilings it is compared with, and the table shows the median round.

Single runs of a scenario on this machine move by more than the differences worth
knowing, and the machine drifts over a long run. Alternating scenario and ceiling
within each round puts that drift on both sides of a ratio; the median round is
robust to one disturbed round. Every round's figures stay in the JSON.

A row's median round is chosen by its rate, except for a row paced at a fixed rate
(``Row.paced``, the half-the-peak latency rows), whose rate is set by the pacing:
that one is chosen by its p99.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict
from typing import Any

from bench.report import Row


def median_by(rows: list[Row]) -> str:
    return "p99" if rows[0].paced is not None else "rate"


def _measure(row: Row, by: str) -> float:
    value = row.p99_ms if by == "p99" else row.rate
    return value if value is not None else 0.0


def round_record(row: Row) -> dict[str, Any]:
    """One round's figures as kept in the JSON (``details['rounds']``)."""
    return {name: value for name, value in asdict(row).items() if name not in ("key", "title")}


def median_of(rounds: list[Row]) -> Row:
    """The median round (the lower one of an even count), carrying every round's
    figures, the errors of all rounds, and exactness only if every round was exact."""
    by = median_by(rounds)
    ranked = sorted(rounds, key=lambda row: _measure(row, by))
    row = ranked[(len(ranked) - 1) // 2]
    if len(rounds) == 1:
        return row
    records = [round_record(r) for r in rounds]
    values = [_measure(r, by) for r in rounds]
    unit = "ms" if by == "p99" else "/s"
    listed = ", ".join(f"{v:,.2f}" if by == "p99" else f"{v:,.0f}" for v in values)
    row.errors = sum(r.errors for r in rounds)
    row.details["rounds"] = records
    row.details["median_by"] = by
    middle = statistics.median(values)
    row.details["spread_of_rounds_pct"] = (
        round(100 * (max(values) - min(values)) / middle, 1) if middle else None
    )
    if row.exact is not None:
        row.exact = all(r.exact for r in rounds)
        if not row.exact:
            row.note = "; ".join(r.note for r in rounds if not r.exact)
    summary = f"median of {len(rounds)} rounds by {by} ({listed} {unit})"
    row.note = f"{summary}; {row.note}" if row.note else summary
    return row


class Rounds:
    """Collects each round's rows by key, in the order they were first measured."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[Row]] = {}

    def add(self, round_no: int, *rows: Row | None) -> None:
        for row in rows:
            if row is None:
                continue
            row.details["round"] = round_no + 1
            self.by_key.setdefault(row.key, []).append(row)

    def medians(self) -> list[Row]:
        return [median_of(rows) for rows in self.by_key.values()]
