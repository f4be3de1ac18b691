"""The figures of a run as a Markdown table, for docs/reliability.md:
``python -m chaos.report chaos/results/<run>.json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RECOVERY_KEYS = {
    "deciding_again_after_s": "deciding again {}s after each kill",
    "answering_after_ready_s": "answering {}s after ready",
    "answering_after_fault_s": "answering {}s after the fault",
    "deciding_messages_again_after_s": "deciding messages again {}s after the cut",
    "stop_s": "stopped in {}s",
    "settle_s": "settled {}s later",
}


def markdown(document: dict[str, Any]) -> str:
    lines = [
        f"Run of {document['started']} ({document['version']} version, {document['seconds']:.0f} s "
        f"in all), service at {document['service'].get('commit')}.",
        "",
        "| scenario | verdict | workload | fault (at, lasting) | recovery | broken (how many; known defect) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_row(s) for s in document["scenarios"]]
    return "\n".join(lines)


def _row(scenario: dict[str, Any]) -> str:
    figures = scenario["figures"]
    broken = [_broken(c) for c in scenario["checks"] if not c["held"]]
    held = sum(1 for c in scenario["checks"] if c["held"])
    cells = [
        f"`{scenario['name']}`",
        f"{scenario['verdict']} ({held}/{len(scenario['checks'])} held)",
        _workload(figures),
        "; ".join(figures.get("faults", [])),
        "; ".join(_recovery(figures)),
        ", ".join(broken) or (scenario["error"] or "none"),
    ]
    return "| " + " | ".join(cells) + " |"


def _broken(check: dict[str, Any]) -> str:
    """``name`` (how many broke it; a check about one thing has no count), known defect."""
    count = f" ({check['broken']:,})" if check["ids"] else ""
    known = f" #{check['known_defect']}" if check["known_defect"] else ""
    return f"`{check['name']}`{count}{known}"


def _workload(figures: dict[str, Any]) -> str:
    parts = []
    if "http_requests" in figures:
        parts.append(
            f"{figures['http_requests']:,} HTTP by {figures['http_clients']} clients "
            f"({figures.get('http_attempts', 0):,} attempts)"
        )
    if "messages" in figures:
        parts.append(f"{figures['messages']:,} messages (+{figures['messages_resent']} resent)")
    return ", ".join(parts)


def _recovery(figures: dict[str, Any]) -> list[str]:
    found = []
    for key, text in RECOVERY_KEYS.items():
        values = [k[key] for k in figures.get("kills", []) if key in k] or (
            [figures[key]] if key in figures else []
        )
        if values:
            found.append(text.format("/".join(str(v) for v in values)))
    return found


if __name__ == "__main__":
    print(markdown(json.loads(Path(sys.argv[1]).read_text())))
