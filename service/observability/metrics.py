"""Every metric the service counts as it works, and the one-line hooks that count.

Counting must cost next to nothing on the hot paths (the one-SKU read at about 27,000
requests/s, thousands of reservations/s): requests are timed in the edge middleware
that already wraps them, with a ``LoopHistogram`` (histogram.py); reservations are
counted once per flush, with the whole batch's tally; pickups once per commit; and
everything that is a state rather than an event (backlogs, pool, cache) is read when
Prometheus scrapes (scrape.py), not updated per event.

This module imports only prometheus_client and the standard library: any layer may
import it. Label values come from bounded sets only (route templates, not paths).
"""

from __future__ import annotations

import enum
import re
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Protocol

from prometheus_client import REGISTRY, Counter, Histogram, disable_created_metrics

from service.observability.histogram import LoopHistogram

# No ``*_created`` series beside each counter: a restart shows as a counter reset
# already, and they would double the series an operator scrolls past.
disable_created_metrics()  # type: ignore[no-untyped-call]

# -- HTTP ----------------------------------------------------------------------------

UNMATCHED = "unmatched"  # the route label of a request whose path no route template fits
HTTP_REQUESTS = LoopHistogram(
    "inventory_http_request_duration_seconds",
    "HTTP requests by route template and status: time from the edge middleware's start "
    "to the end of the answer.",
    ("route", "status"),
    (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
REGISTRY.register(HTTP_REQUESTS)
HTTP_UNROUTED = Counter(
    "inventory_http_unrouted_requests",
    "Requests refused by the router before any route (no path matches: 404; a method "
    "the path has no handler for: 405), by status. They are not timed.",
    ["status"],
)

# -- Reservations and pickups --------------------------------------------------------

RESERVATIONS = Counter(
    "inventory_reservations",
    "Reservation steps committed by the reservation engine (HTTP, messages, the expiry "
    "sweeper), by step, outcome and reason (the outcome's code, 'ok' when it succeeded).",
    ["step", "outcome", "reason"],
)
FLUSH_SIZE = Histogram(
    "inventory_reservation_flush_size",
    "Reservation steps decided in one flush (one transaction) of the reservation engine.",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
)
FLUSH_SECONDS = Histogram(
    "inventory_reservation_flush_duration_seconds",
    "Time of one committed flush of the reservation engine, retries included.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
PICKUP_TRANSITIONS = Counter(
    "inventory_pickup_transitions",
    "Pickups that entered a state (booked, ready, collected, cancelled, no_show), "
    "counted after the transaction committed.",
    ["transition"],
)
PICKUP_TRANSITION_CHANGES = "pickup_transitions"  # the note_changes kind: "<id> <event tag>"

# -- Messages ------------------------------------------------------------------------

MESSAGES = LoopHistogram(
    "inventory_consumer_message_duration_seconds",
    "Command messages finished by the consumer, by command (routing key; 'unknown' for "
    "one no command has) and outcome (applied: acked after its commit, business "
    "refusals included; dead_lettered): time from delivery to the decision, retries "
    "included.",
    ("command", "outcome"),
    (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
REGISTRY.register(MESSAGES)
DEAD_LETTERS = Counter(
    "inventory_dead_letters",
    "Command messages this service sent to the dead-letter queue, by reason.",
    ["reason"],
)
CONSUMER_RETRIES = Counter(
    "inventory_consumer_retries",
    "Attempts of a command that failed and will be tried again, by cause (transient: "
    "the database unavailable or a deadlock; unexpected: a handler error).",
    ["cause"],
)
for _cause in ("transient", "unexpected"):  # both series exist, at 0, from the start
    CONSUMER_RETRIES.labels(_cause)
OUTBOX_PUBLISHED = Counter(
    "inventory_outbox_published",
    "Events and replies the outbox relay published (confirmed by the broker, then deleted).",
)

# -- Sweeps --------------------------------------------------------------------------

SWEEP_RUNS = Counter(
    "inventory_sweep_runs",
    "Rounds of the worker's periodic jobs (expiry_sweep, pickup_no_shows, idempotency_pruned, "
    "availability_events), by result (ok, failed).",
    ["sweep", "result"],
)
SWEEP_ITEMS = Counter(
    "inventory_sweep_items",
    "What those rounds did: reservations expired, pickups ended as no-shows, "
    "availability events written.",
    ["sweep"],
)

# Parts that are up or not, read when scraped (scrape.py): name -> is it up?
COMPONENTS: dict[str, Callable[[], bool]] = {}


class _Outcome(Protocol):
    @property
    def kind(self) -> enum.Enum: ...

    @property
    def code(self) -> str: ...


class _Pending(Protocol):
    @property
    def step(self) -> object: ...


_step_names: dict[type, str] = {}


def _step_name(kind: type) -> str:
    name = _step_names.get(kind)
    if name is None:  # TransferIn -> transfer_in, once per class
        name = _step_names[kind] = re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower()
    return name


def count_flush(batch: Sequence[_Pending], outcomes: Sequence[_Outcome], started: float) -> None:
    """One committed flush: its size, its time since ``started`` (perf_counter), and one
    increment per distinct (step, outcome, reason) of the batch."""
    FLUSH_SECONDS.observe(time.perf_counter() - started)
    FLUSH_SIZE.observe(len(batch))
    tally = Tally(
        (_step_name(type(p.step)), o.kind.value, o.code)
        for p, o in zip(batch, outcomes, strict=True)
    )
    for labels, times in tally.items():
        RESERVATIONS.labels(*labels).inc(times)


async def count_committed(changes: Mapping[str, Iterable[str]]) -> None:
    """A ``Database.after_commit`` listener: the pickup transitions a commit made."""
    for noted in changes.get(PICKUP_TRANSITION_CHANGES, ()):
        tag = noted.rpartition(" ")[2]
        PICKUP_TRANSITIONS.labels(tag.removeprefix("pickup.")).inc()


# The command and start of the delivery being handled: each delivery runs in a task
# (and callbacks) with its own copy of the context.
_delivery: ContextVar[tuple[str, float]] = ContextVar("delivery")


def message_received(command: str) -> None:
    _delivery.set((command, time.perf_counter()))


def message_finished(outcome: str) -> None:
    command, started = _delivery.get(("unknown", time.perf_counter()))
    MESSAGES.observe((command, outcome), time.perf_counter() - started)


def message_dead_lettered(reason: str) -> None:
    DEAD_LETTERS.labels(reason).inc()
    message_finished("dead_lettered")


def sweep_ran(sweep: str, items: int) -> None:
    SWEEP_RUNS.labels(sweep, "ok").inc()
    SWEEP_ITEMS.labels(sweep).inc(items)  # 0 too: the series exists from the first round


def sweep_failed(sweep: str) -> None:
    SWEEP_RUNS.labels(sweep, "failed").inc()
