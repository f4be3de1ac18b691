"""The service's promises about how it behaves during a fault, as opposed to what is
left in the tables after it: outage answers, deadlines, readiness, a graceful stop,
a replica started during an outage, recovery.
"""

from __future__ import annotations

import json
from collections import Counter
from contextlib import suppress
from pathlib import Path
from typing import Any

from chaos.broker import EVENTS_QUEUE, REPLIES_QUEUE, Delivered
from chaos.http_load import FINAL, Attempt, HttpRequest
from chaos.probes import Probe
from chaos.verdict import Check

ANSWER_DEADLINE_S = 6.0  # a block's deadline (statement timeout 3 s + 1 s) and a margin
READY_DEADLINE_S = 3.0  # /health/ready answers within this, whatever the database does
TRACEBACKS_ALLOWED = 3  # an outage logs a line when it starts and ends, not one per request
RECOVERY_LIMIT_S = 30.0  # from the end of a fault to the service answering again


def attempts_in(requests: list[HttpRequest], start: float, end: float) -> list[Attempt]:
    """The attempts in flight at some moment while the fault lasted."""
    return [a for r in requests for a in r.attempts if a.at <= end and a.at + a.seconds >= start]


def outcomes(attempts: list[Attempt]) -> dict[str, int]:
    return dict(Counter(a.outcome for a in attempts).most_common())


def outage_answers(attempts: list[Attempt]) -> Check:
    """During an outage the service answers 503 with Retry-After, never 500."""
    wrong = [
        a
        for a in attempts
        if a.outcome[:1] == "5" and not (a.outcome.startswith("503") and a.retry_after)
    ]
    detail = f"answers while it lasted: {outcomes(attempts)}"
    return Check.of(
        "outage_answers_are_503",
        detail,
        [f"sent at {a.at:.1f}s: {a.outcome}" for a in wrong],
        "answers other than 503 with Retry-After",
    )


def tracebacks(logs: list[Path], refused: int) -> Check:
    found = sum(_count(log, "Traceback (most recent call last)") for log in logs)
    detail = (
        f"{found} tracebacks logged by serve for {refused} refused attempts "
        f"(allowed: {TRACEBACKS_ALLOWED})"
    )
    return Check.whole("no_traceback_per_request", detail, held=found <= TRACEBACKS_ALLOWED)


def outage_logged(log: Path) -> Check:
    """An outage is told once: one ``database_unavailable`` line when it starts and one
    ``database_recovered`` line, with how many requests it refused, when it ends."""
    events = [e for e in _events(log) if e.get("event") in OUTAGE_EVENTS]
    started = sum(1 for e in events if e["event"] == "database_unavailable")
    ended = [e for e in events if e["event"] == "database_recovered"]
    refused = sum(int(e.get("refused", 0)) for e in ended)
    detail = (
        f"{log.stem} logged database_unavailable {started}x, "
        f"database_recovered {len(ended)}x (refused={refused})"
    )
    return Check.whole("outage_logged_once", detail, held=started == len(ended) == 1)


OUTAGE_EVENTS = ("database_unavailable", "database_recovered")


def _events(log: Path) -> list[dict[str, Any]]:
    """The service's JSON log lines (production logs one object per line)."""
    found = []
    with log.open(errors="replace") as lines:
        for line in lines:
            if line.startswith("{"):
                with suppress(ValueError):
                    found.append(json.loads(line))
    return found


def _count(log: Path, text: str) -> int:
    with log.open(errors="replace") as lines:
        return sum(1 for line in lines if text in line)


def deadlines(attempts: list[Attempt]) -> Check:
    slow = [a for a in attempts if a.outcome == "timeout" or a.seconds > ANSWER_DEADLINE_S]
    longest = max((a.seconds for a in attempts), default=0.0)
    detail = (
        f"every request answered within {ANSWER_DEADLINE_S:.0f}s while the database "
        f"was silent (longest {longest:.1f}s)"
    )
    return Check.of(
        "answers_within_deadline",
        detail,
        [f"sent at {a.at:.1f}s: {a.outcome} after {a.seconds:.1f}s" for a in slow],
        "requests waited longer",
    )


def readiness(probes: list[Probe], start: float, end: float) -> Check:
    during = [p for p in probes if p.at <= end and p.at + p.seconds >= start]
    slow = [p for p in during if p.outcome == "timeout" or p.seconds > READY_DEADLINE_S]
    seen = dict(Counter(p.outcome for p in during))
    longest = max((p.seconds for p in during), default=0.0)
    detail = (
        f"/health/ready answered within {READY_DEADLINE_S:.0f}s during the fault "
        f"({len(during)} probes: {seen}, longest {longest:.1f}s)"
    )
    return Check.of(
        "readiness_answers_in_time",
        detail,
        [f"sent at {p.at:.1f}s: {p.outcome} after {p.seconds:.1f}s" for p in slow],
        "probes waited longer",
    )


def unaffected(attempts: list[Attempt], what: str) -> Check:
    failed = [a for a in attempts if a.outcome not in FINAL]
    detail = f"HTTP answers while {what}: {outcomes(attempts)}"
    return Check.of(
        "http_unaffected",
        detail,
        [f"sent at {a.at:.1f}s: {a.outcome}" for a in failed],
        "failed attempts",
    )


def graceful_stop(name: str, code: int | None, seconds: float, grace_s: float) -> Check:
    outcome = f"exited with {code}" if code is not None else "was killed after the grace"
    detail = f"SIGTERM: {name} {outcome} after {seconds:.1f}s (grace {grace_s:.0f}s)"
    return Check.whole("stops_gracefully", detail, held=code == 0)


def no_duplicates(delivered: list[Delivered], resent: set[str]) -> Check:
    """After a graceful stop nothing is published twice, not even with the same ids: one
    event per event_id, one reply per message sent (two for a message sent twice)."""
    events = Counter(d.event_id for d in delivered if d.queue == EVENTS_QUEUE)
    replies = Counter(d.correlation_id for d in delivered if d.queue == REPLIES_QUEUE)
    twice = [f"event {k}" for k, n in events.items() if n > 1]
    twice += [f"reply to {k}" for k, n in replies.items() if n > 1 + (k in resent)]
    doubled_events = sum(1 for n in events.values() if n > 1)
    detail = (
        f"{sum(events.values())} events, {sum(replies.values())} replies; "
        f"{doubled_events} events and {len(twice) - doubled_events} replies published "
        "more than once"
    )
    return Check.of("no_duplicates_on_graceful_stop", detail, twice, "published twice")


def replica_start(name: str, outcome: str) -> Check:
    """A process started while a dependency is down waits for it, then becomes ready."""
    detail = f"{name} started during the outage: {outcome}"
    return Check.whole("replica_starts_during_outage", detail, held=outcome.startswith("ready"))


def recovery(requests: list[HttpRequest], since: float) -> float | None:
    """Seconds from ``since`` to the end of the first attempt answered after it."""
    ends = [
        a.at + a.seconds
        for r in requests
        for a in r.attempts
        if a.outcome in FINAL and a.at + a.seconds >= since
    ]
    return round(min(ends) - since, 2) if ends else None


def recovered(seconds: float | None, what: str) -> Check:
    detail = (
        f"{what}: answering again {seconds}s after the fault ended (limit {RECOVERY_LIMIT_S:.0f}s)"
    )
    held = seconds is not None and seconds <= RECOVERY_LIMIT_S
    return Check.whole("recovers", detail, held=held)
