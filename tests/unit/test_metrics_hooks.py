"""The cheap histogram exposes exactly what prometheus_client's own Histogram would for
the same observations; the hooks count what they are given, with bounded labels."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest

from service.domain.reservations import Outcome, OutcomeKind
from service.observability import metrics
from service.observability.histogram import LoopHistogram
from service.usecases.reservation_steps import Origin, Pending, TransferIn

BUCKETS = (0.001, 0.01, 0.1, 1.0)
OBSERVED = [0.0, 0.0005, 0.001, 0.002, 0.01, 0.05, 0.1, 0.7, 1.0, 3.0, 42.0]


def test_the_loop_histogram_exposes_what_prometheus_clients_histogram_exposes() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    loop_histogram = LoopHistogram("x_seconds", "x", ("route", "status"), BUCKETS)
    ours.register(loop_histogram)
    reference = Histogram("x_seconds", "x", ["route", "status"], buckets=BUCKETS, registry=theirs)
    for seconds in OBSERVED:
        loop_histogram.observe(("/v1/a/{id}", 200), seconds)
        reference.labels("/v1/a/{id}", "200").observe(seconds)
    loop_histogram.observe(("/v1/b", 503), 0.2)
    reference.labels("/v1/b", "503").observe(0.2)
    # service.observability.metrics turned ``*_created`` series off for both.
    assert generate_latest(ours) == generate_latest(theirs)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def reservations(step: str, outcome: str, reason: str) -> float:
    return sample("inventory_reservations_total", step=step, outcome=outcome, reason=reason)


async def test_a_flush_is_counted_once_per_distinct_step_outcome_and_reason() -> None:
    before = (
        reservations("transfer_in", "created", "ok"),
        reservations("transfer_in", "conflict", "insufficient_stock"),
    )
    batch = [Pending(TransferIn(f"w-{i}", f"r-{i}", "ST-A"), Origin("test")) for i in range(5)]
    refused = Outcome(OutcomeKind.CONFLICT, "insufficient_stock")
    outcomes = [Outcome(OutcomeKind.CREATED)] * 3 + [refused] * 2
    metrics.count_flush(batch, outcomes, 0.0)
    after = (
        reservations("transfer_in", "created", "ok"),
        reservations("transfer_in", "conflict", "insufficient_stock"),
    )
    assert (after[0] - before[0], after[1] - before[1]) == (3, 2)


async def test_pickup_transitions_are_counted_from_a_commits_changes_only() -> None:
    def ready() -> float:
        return sample("inventory_pickup_transitions_total", transition="ready")

    before = ready()
    changes = {
        "balances": {"S1"},
        metrics.PICKUP_TRANSITION_CHANGES: {"P1 pickup.ready", "P2 pickup.ready"},
    }
    await metrics.count_committed(changes)
    await metrics.count_committed({"balances": {"S1"}})
    assert ready() - before == 2
