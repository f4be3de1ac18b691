"""Checks, verdicts, and the defects the service is known to have (none today).

A check is one invariant or promise, held or broken, with a count and some ids of
what broke it. A scenario's verdict:

- ``PASS``: every check held;
- ``KNOWN``: only checks listed in ``KNOWN_DEFECTS`` broke (defects found and being
  fixed; each names its defect's number in its issue);
- ``FAIL``: any other check broke: something was lost, doubled, oversold, or an
  invariant that held before broke;
- ``ERROR``: the scenario could not run to its checks (the reason is printed).

When a defect is fixed, its line in ``KNOWN_DEFECTS`` goes: from then on its check
breaking is a ``FAIL``. A known defect that did not show in a run is reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SAMPLE = 5  # ids shown per broken check

# check name -> (defect number, what is wrong today); the issue 12 defects are all fixed
KNOWN_DEFECTS: dict[str, tuple[int, str]] = {}  # every defect the suite found is fixed


@dataclass(slots=True)
class Check:
    name: str
    held: bool
    detail: str  # what was checked, with its figures
    broken: int = 0  # how many things broke it
    ids: list[str] = field(default_factory=list)  # some of them

    @classmethod
    def of(cls, name: str, detail: str, broken: list[str], what: str = "broke it") -> Check:
        """Held when ``broken`` is empty; otherwise says how many broke it, and names the
        first few (in the order given: ids in workload order, attempts in time order)."""
        if not broken:
            return cls(name, True, detail)
        note = f"{detail}; {len(broken)} {what}"
        return cls(name, False, note, len(broken), broken[:SAMPLE])

    @classmethod
    def whole(cls, name: str, detail: str, *, held: bool) -> Check:
        """A check about one thing (a process, a count), whose detail says it all."""
        return cls(name, held, detail, 0 if held else 1)

    @property
    def known(self) -> tuple[int, str] | None:
        return KNOWN_DEFECTS.get(self.name)

    def line(self) -> str:
        if self.held:
            return f"    held    {self.name}: {self.detail}"
        mark = f"KNOWN #{self.known[0]}" if self.known else "BROKEN "
        ids = f" e.g. {', '.join(self.ids)}" if self.ids else ""
        return f"    {mark} {self.name}: {self.detail}{ids}"


@dataclass(slots=True)
class Result:
    name: str
    title: str
    checks: list[Check] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "ERROR"
        broken = [c for c in self.checks if not c.held]
        if not broken:
            return "PASS"
        return "KNOWN" if all(c.known for c in broken) else "FAIL"

    def quiet_defects(self) -> list[str]:
        """Known defects whose check ran and held in this scenario."""
        return [c.name for c in self.checks if c.held and c.known]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "verdict": self.verdict,
            "seconds": round(self.seconds, 1),
            "error": self.error,
            "figures": self.figures,
            "checks": [
                {
                    "name": c.name,
                    "held": c.held,
                    "detail": c.detail,
                    "broken": c.broken,
                    "ids": c.ids,
                    "known_defect": c.known[0] if c.known else None,
                }
                for c in self.checks
            ],
        }
