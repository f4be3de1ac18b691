"""What the metrics hooks cost per call, in nanoseconds: ``python -m bench.metrics_hooks``.

A micro-benchmark (timeit, best of several repeats), not a load test: it isolates the
lines the metrics added to each hot path, so their cost can be set beside a request's
(docs/operations.md, "Metrics"). The hot paths' medians, old against new, are the
benchmark suite's job (`make bench ... --compare`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import timeit
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from service.domain.reservations import Outcome, OutcomeKind
from service.observability import metrics
from service.observability.histogram import LoopHistogram
from service.usecases.reservation_steps import Expire, Origin, Pending

CALLS = 200_000
REPEATS = 7


def ns_per_call(work: Callable[[], object], calls: int = CALLS) -> float:
    return min(timeit.repeat(work, number=calls, repeat=REPEATS)) / calls * 1e9


def edge_hook() -> Callable[[], None]:
    """The lines the edge middleware runs per request for the latency histogram."""
    scope = {"path_template": "/v1/availability/{sku}/locations/{location_id}"}
    status, perf_counter, observe = 200, time.perf_counter, metrics.HTTP_REQUESTS.observe

    def hook() -> None:
        started = perf_counter()
        elapsed = perf_counter() - started
        observe((scope.get("path_template") or metrics.UNMATCHED, status), elapsed)

    return hook


def client_histogram() -> Callable[[], None]:
    """The same observation through prometheus_client's Histogram (the reference)."""
    registry = CollectorRegistry()
    histogram = Histogram("x_seconds", "x", ["route", "status"], registry=registry)
    observe = histogram.labels("/v1/availability/{sku}", "200").observe
    return lambda: observe(0.0007)


def flush_hook(size: int) -> Callable[[], None]:
    async def pending() -> list[Pending]:  # a Pending's future needs a running loop
        return [Pending(Expire(f"r-{i}"), Origin("bench")) for i in range(size)]

    batch = asyncio.run(pending())
    outcomes = [Outcome(OutcomeKind.DONE)] * size
    return lambda: metrics.count_flush(batch, outcomes, time.perf_counter())


def message_hooks() -> None:
    metrics.message_received("reservation.create")
    metrics.message_finished("applied")


def commit_listener() -> Callable[[], None]:
    """The after_commit listener on a flush's changes (no pickup among them)."""
    changes = {"balances": {"S1"}}

    def listen() -> None:
        coroutine = metrics.count_committed(changes)
        with contextlib.suppress(StopIteration):  # it finishes without awaiting
            coroutine.send(None)

    return listen


def scrape_ms(routes: int) -> float:
    """generate_latest over ``routes`` x 3 statuses of request series (no runtime)."""
    registry = CollectorRegistry()
    requests = LoopHistogram("r_seconds", "r", ("route", "status"), (0.001, 0.01, 0.1, 1.0))
    registry.register(requests)
    for route in range(routes):
        for status in (200, 404, 500):
            requests.observe((f"/v1/route{route}/{{id}}", status), 0.001)
    return ns_per_call(lambda: generate_latest(registry), calls=50) / 1e6


def main() -> None:
    rows = [
        ("edge middleware: time + observe (per request)", ns_per_call(edge_hook())),
        ("  prometheus_client Histogram.observe, for reference", ns_per_call(client_histogram())),
        (
            "reservation flush of 500: count_flush, per step",
            ns_per_call(flush_hook(500), 500) / 500,
        ),
        ("reservation flush of 1: count_flush", ns_per_call(flush_hook(1), 20_000)),
        ("consumer: message_received + message_finished", ns_per_call(message_hooks)),
        ("after_commit listener, no pickup in the commit", ns_per_call(commit_listener())),
    ]
    for name, ns in rows:
        print(f"{name:55} {ns:8.0f} ns")
    print(f"{'a scrape of 30 routes x 3 statuses (ms)':55} {scrape_ms(30):8.2f} ms")


if __name__ == "__main__":
    main()
