"""No oversell: N concurrent reservations for K units, over HTTP, over messages,
mixed, and across two replicas; exactly K succeed and the ledger verifies.
And the same harness, run against a naive check-then-write path kept here,
catches that path's oversell: the harness can fail (issue 3)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection

from service.api.app import create_app
from service.messaging.worker import Worker
from service.runtime import Runtime
from service.settings import Settings
from service.storage.database import Database
from service.storage.pool import Pool
from tests.reservation_helpers import (
    Inbox,
    Line,
    Publisher,
    create_body,
    create_message,
    figures,
    given_stock,
    ledger_errors,
    naive_reserve,
    oversell_failures,
    race,
    reserve,
)

UNITS = 25
RACERS = 120
Client = httpx.AsyncClient


@pytest.fixture(scope="module")
async def third_runtime(messaging_settings: Settings) -> AsyncIterator[Runtime]:
    """A further replica's parts: its own pool and reservation engine on the same database."""
    rt = await Runtime.start(messaging_settings)
    yield rt
    await rt.stop()


@pytest.fixture
async def replica_client(messaging_runtime: Runtime, client: Client) -> AsyncIterator[Client]:
    """An HTTP client of a second app (another replica: its own runtime and engine),
    with the same credentials as ``client``."""
    transport = httpx.ASGITransport(app=create_app(runtime=messaging_runtime))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://replica.test", headers=client.headers
    ) as http:
        yield http


@pytest.fixture
async def second_worker(worker: Worker, third_runtime: Runtime) -> AsyncIterator[Worker]:
    """A second consumer of the same command queue, on the third runtime."""
    running = Worker(third_runtime)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def messages(
    broker: AbstractRobustConnection,
) -> AsyncIterator[tuple[Publisher, Inbox]]:
    """A publisher of commands and a reply queue."""
    publisher, inbox = await Publisher.open(broker), await Inbox.open(broker)
    yield publisher, inbox
    await inbox.close()
    await publisher.close()


async def by_http(client: Client, reservation_id: str, *lines: Line) -> bool:
    """Reserve over HTTP: True when created; any answer but a stock refusal fails the test."""
    response = await reserve(client, create_body(reservation_id, "ST-A", *lines))
    assert response.status_code in (201, 409), response.text
    if response.status_code == 409:
        assert response.json()["code"] == "insufficient_stock", response.text
    return response.status_code == 201


async def by_messages(
    publisher: Publisher, inbox: Inbox, ids: list[str], *lines: Line
) -> Counter[str]:
    """Publish one reservation.create per id at once; count the replies' types and reasons."""
    await asyncio.gather(
        *(
            publisher.send(
                create_message(f"m-{rid}", rid, "ST-A", *lines),
                reply_to=inbox.name,
                correlation_id=rid,
            )
            for rid in ids
        )
    )
    replies = await inbox.wait_for(len(ids), within_s=20)
    assert {r.correlation_id for r in replies} == set(ids)
    outcomes: Counter[str] = Counter()
    for payload in inbox.payloads():
        outcomes[payload["type"]] += 1
        if payload["type"] == "reservation.rejected":
            assert payload["reason"] == "insufficient_stock", payload
            outcomes[payload["reason"]] += 1
    return outcomes


# ------------------------------------------------------------------ the engine


async def test_n_concurrent_http_reservations_for_k_units_confirm_exactly_k(
    client: Client, db: Database, pool: Pool
) -> None:
    await given_stock(db, "ST-A", ("HOT", UNITS))

    confirmed = await race(RACERS, lambda i: by_http(client, f"r-{i}", ("HOT", 1)))

    assert await oversell_failures(pool, "ST-A", "HOT", units=UNITS, confirmed=confirmed) == []


async def test_n_concurrent_reservation_messages_for_k_units_confirm_exactly_k(
    worker: Worker, messages: tuple[Publisher, Inbox], db: Database, pool: Pool
) -> None:
    await given_stock(db, "ST-A", ("HOT", UNITS))
    publisher, inbox = messages

    outcomes = await by_messages(publisher, inbox, [f"r-{i}" for i in range(RACERS)], ("HOT", 1))

    assert outcomes["reservation.confirmed"] == UNITS
    assert outcomes["insufficient_stock"] == RACERS - UNITS
    confirmed = outcomes["reservation.confirmed"]
    assert await oversell_failures(pool, "ST-A", "HOT", units=UNITS, confirmed=confirmed) == []


async def test_http_and_messages_at_once_confirm_exactly_k_in_total(
    client: Client,
    worker: Worker,
    messages: tuple[Publisher, Inbox],
    db: Database,
    pool: Pool,
) -> None:
    await given_stock(db, "ST-A", ("HOT", UNITS))
    publisher, inbox = messages
    half = RACERS // 2

    over_http, over_messages = await asyncio.gather(
        race(half, lambda i: by_http(client, f"h-{i}", ("HOT", 1))),
        by_messages(publisher, inbox, [f"m-{i}" for i in range(half)], ("HOT", 1)),
    )

    confirmed = over_http + over_messages["reservation.confirmed"]
    assert await oversell_failures(pool, "ST-A", "HOT", units=UNITS, confirmed=confirmed) == []


async def test_two_replicas_over_http_and_messages_confirm_exactly_k_in_total(
    client: Client,
    replica_client: Client,
    second_worker: Worker,
    messages: tuple[Publisher, Inbox],
    db: Database,
    pool: Pool,
) -> None:
    """Three engines race: the app's, the replica's (with a worker), and a second worker's."""
    await given_stock(db, "ST-A", ("HOT", UNITS))
    publisher, inbox = messages
    third = RACERS // 3

    one, two, by_message = await asyncio.gather(
        race(third, lambda i: by_http(client, f"a-{i}", ("HOT", 1))),
        race(third, lambda i: by_http(replica_client, f"b-{i}", ("HOT", 1))),
        by_messages(publisher, inbox, [f"m-{i}" for i in range(third)], ("HOT", 1)),
    )

    confirmed = one + two + by_message["reservation.confirmed"]
    assert await oversell_failures(pool, "ST-A", "HOT", units=UNITS, confirmed=confirmed) == []


async def test_two_hot_skus_reserved_in_opposite_line_orders_neither_deadlock_nor_oversell(
    client: Client,
    replica_client: Client,
    worker: Worker,
    messages: tuple[Publisher, Inbox],
    db: Database,
    pool: Pool,
) -> None:
    await given_stock(db, "ST-A", ("HOT-A", 20), ("HOT-B", 30))
    publisher, inbox = messages
    ab, ba = (("HOT-A", 1), ("HOT-B", 1)), (("HOT-B", 1), ("HOT-A", 1))

    one, two, by_message = await asyncio.gather(
        race(40, lambda i: by_http(client, f"a-{i}", *(ab if i % 2 else ba))),
        race(40, lambda i: by_http(replica_client, f"b-{i}", *(ba if i % 2 else ab))),
        by_messages(publisher, inbox, [f"m-{i}" for i in range(40)], *ba),
    )

    confirmed = one + two + by_message["reservation.confirmed"]
    assert confirmed == 20
    a, b = await figures(pool, "ST-A", "HOT-A"), await figures(pool, "ST-A", "HOT-B")
    assert (a.reserved, b.reserved) == (20, 20)
    assert await ledger_errors(pool) == []


async def test_the_same_reservation_sent_to_two_replicas_at_once_is_created_once_and_answered_twice(
    client: Client, replica_client: Client, db: Database, pool: Pool
) -> None:
    """A webshop retrying through the load balancer: both answers must be the reservation."""
    await given_stock(db, "ST-A", ("HOT", 100))

    for i in range(20):
        body = create_body(f"r-{i}", "ST-A", ("HOT", 1))
        answers = await asyncio.gather(reserve(client, body), reserve(replica_client, body))
        assert sorted(a.status_code for a in answers) == [200, 201], [a.text for a in answers]
        assert answers[0].json() == answers[1].json()

    assert (await figures(pool, "ST-A", "HOT")).reserved == 20
    assert await ledger_errors(pool) == []


# ------------------------------------------------------------------ the harness can fail


async def test_the_harness_catches_the_oversell_of_a_naive_check_then_write_reservation(
    clean: None, db: Database, pool: Pool
) -> None:
    await given_stock(db, "ST-A", ("HOT", UNITS))

    confirmed = await race(RACERS, lambda i: naive_reserve(pool, "ST-A", "HOT", f"r-{i}"))

    failures = await oversell_failures(pool, "ST-A", "HOT", units=UNITS, confirmed=confirmed)
    assert confirmed > UNITS
    assert any(f.startswith("oversold:") for f in failures), failures
    assert await ledger_errors(pool) == [], "the naive path keeps its books; it only oversells"
