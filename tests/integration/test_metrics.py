"""/metrics after real traffic: what Prometheus scrapes passes ``promtool check metrics``,
counts what happened (HTTP by route template, reservations, a pickup's transitions,
consumed and dead-lettered messages, sweeps) and reads the states (outbox, cache,
pool, worker parts); the worker's own metrics port answers the same."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from aio_pika.abc import AbstractRobustConnection
from litestar import Litestar
from prometheus_client.parser import text_string_to_metric_families

from service.api.app import create_app
from service.messaging.topology import DEAD_LETTER_QUEUE
from service.messaging.worker import Worker
from service.observability import scrape as scraping
from service.observability.metrics_port import serve_metrics
from service.runtime import Runtime
from service.settings import Settings
from tests.metrics_helpers import Samples, samples_of, scrape, traffic, value
from tests.promtool import needs_promtool, promtool
from tests.reservation_helpers import Publisher, eventually
from tests.tcp_proxy import TcpProxy, through


@pytest.fixture
async def before(app: Litestar, worker: Worker) -> Samples:
    """The counters before the test's traffic (they count for the whole process)."""
    return samples_of((await scrape(app)).text)


@pytest.fixture
async def after(
    app: Litestar,
    before: Samples,
    client: httpx.AsyncClient,
    broker: AbstractRobustConnection,
) -> Samples:
    await traffic(client, broker)

    async def swept() -> Samples | None:  # the expiry sweeper runs every 0.2 s here
        now = samples_of((await scrape(app)).text)
        ran = (
            "inventory_sweep_runs_total",
            frozenset({("sweep", "expiry_sweep"), ("result", "ok")}),
        )
        return now if now.get(ran, 0) > before.get(ran, 0) else None

    return await eventually(swept, "an expiry sweep counted")


@needs_promtool
async def test_the_scrape_is_public_prometheus_text_that_promtool_accepts(
    app: Litestar, after: Samples
) -> None:
    answer = await scrape(app)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    status, output = await promtool("check", "metrics", stdin=answer.content)
    assert status == 0, output


async def test_requests_are_counted_by_route_template_and_status_never_by_raw_path(
    before: Samples, after: Samples
) -> None:
    def more(route: str, status: str) -> float:
        name = "inventory_http_request_duration_seconds_count"
        return value(after, name, route=route, status=status) - value(
            before, name, route=route, status=status
        )

    assert more("/v1/reservations", "201") == 1
    assert more("/v1/reservations", "409") == 1
    assert more("/v1/availability/{sku}/locations/{location_id}", "200") == 1
    assert more("/v1/pickups/{pickup_id}/collect", "200") == 1
    routes = {
        dict(labels)["route"]
        for name, labels in after
        if name == "inventory_http_request_duration_seconds_count"
    }
    assert not [r for r in routes if "ST-A" in r or "P1" in r or "S1" in r]
    unrouted = "inventory_http_unrouted_requests_total"
    assert value(after, unrouted, status="404") - value(before, unrouted, status="404") == 1


async def test_reservations_pickups_and_messages_are_counted_by_what_became_of_them(
    before: Samples, after: Samples
) -> None:
    def more(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    reservations = "inventory_reservations_total"
    # r-1 by HTTP, r-3 by message, and the pickup's own reservation is not the engine's.
    assert more(reservations, step="create", outcome="created", reason="ok") == 2
    assert more(reservations, step="create", outcome="conflict", reason="insufficient_stock") == 1
    for transition in ("booked", "ready", "collected"):
        assert more("inventory_pickup_transitions_total", transition=transition) == 1
    consumed = "inventory_consumer_message_duration_seconds_count"
    assert more(consumed, command="reservation.create", outcome="applied") == 1
    assert more(consumed, command="reservation.create", outcome="dead_lettered") == 1
    assert more("inventory_dead_letters_total", reason="undecodable") == 1
    assert more("inventory_outbox_published_total") >= 1  # the reply and the events


async def test_states_are_read_at_scrape_time(
    app: Litestar, client: httpx.AsyncClient, after: Samples
) -> None:
    assert (await client.get("/v1/availability/S1/locations/ST-A")).status_code == 200
    after = samples_of((await scrape(app)).text)  # S1 in the cache again, after its changes
    assert value(after, "inventory_outbox_backlog", kind="event") >= 0
    assert value(after, "inventory_outbox_oldest_age_seconds") >= 0
    assert value(after, "inventory_change_feed_connected") == 1
    assert 0 <= value(after, "inventory_change_feed_lag_seconds") < 5
    assert value(after, "inventory_availability_cache_skus") >= 1  # S1 was read
    assert value(after, "inventory_db_pool_max_connections") >= 1
    assert value(after, "inventory_db_pool_waiting") == 0
    assert value(after, "inventory_component_up", component="broker") == 1
    assert value(after, "inventory_component_up", component="consumer") == 1
    assert value(after, "inventory_queue_consumers", queue="inventory.commands") == 1
    assert ("inventory_queue_messages", frozenset({("queue", DEAD_LETTER_QUEUE)})) in after


@pytest.fixture
async def metrics_port(messaging_runtime: Runtime) -> AsyncIterator[int]:
    server = await serve_metrics(messaging_runtime, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_the_workers_metrics_port_answers_the_metrics_and_nothing_else(
    metrics_port: int,
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{metrics_port}") as http:
        metrics = await http.get("/metrics")
        other = await http.get("/health/live")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    names = {family.name for family in text_string_to_metric_families(metrics.text)}
    assert {"inventory_db_pool_connections", "inventory_outbox_published"} <= names
    assert other.status_code == 404


@pytest.fixture
async def app_behind_proxy(settings: Settings, db_proxy: TcpProxy) -> AsyncIterator[Litestar]:
    """The app on a runtime of its own that reaches the database through ``db_proxy``."""
    behind = msgspec.structs.replace(
        settings,
        database_url=through(settings.database_url, db_proxy.port),
        db_connect_timeout_s=0.5,
        db_acquire_timeout_s=0.5,
    )
    runtime = await Runtime.start(behind)
    try:
        yield create_app(runtime=runtime)
    finally:
        db_proxy.stalled = False
        await runtime.stop()


async def test_scrapes_read_the_backlog_at_most_every_few_seconds_and_never_wait_for_a_silent_database(
    app_behind_proxy: Litestar, db_proxy: TcpProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    backlog = ("inventory_outbox_backlog", frozenset({("kind", "event")}))
    assert backlog in samples_of((await scrape(app_behind_proxy)).text)
    db_proxy.stalled = True  # from now on every query waits forever
    cached = samples_of((await scrape(app_behind_proxy)).text)
    assert backlog in cached  # read a moment ago: no query, the figure stands
    monkeypatch.setattr(scraping, "BACKLOG_MAX_AGE_S", 0.0)  # due again at once
    started = time.monotonic()
    answer = await scrape(app_behind_proxy)
    assert answer.status_code == 200
    assert time.monotonic() - started < scraping.BACKLOG_DEADLINE_S + 1.0
    unread = samples_of(answer.text)
    assert backlog not in unread  # absent, not stale
    assert ("inventory_db_pool_max_connections", frozenset()) in unread


async def test_the_dead_letter_queues_depth_is_the_brokers_count(
    app: Litestar,
    worker: Worker,
    broker: AbstractRobustConnection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scraping, "BACKLOG_MAX_AGE_S", 0.0)  # every scrape reads the broker
    publisher = await Publisher.open(broker)
    try:
        for index in range(2):
            await publisher.send(b"[", routing_key="pickup.book", message_id=f"bad-{index}")
    finally:
        await publisher.close()

    async def waiting() -> float | None:
        depth = value(
            samples_of((await scrape(app)).text),
            "inventory_queue_messages",
            queue=DEAD_LETTER_QUEUE,
        )
        return depth if depth == 2 else None

    assert await eventually(waiting, "two messages in the dead-letter queue") == 2
