"""Outgoing events: written to the outbox with the change they describe (never for
a change that rolled back, never lost for one that committed), availability
events coalesced, and expiry that releases each reservation exactly once (issue 3)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import msgspec
import pytest
from aio_pika.abc import AbstractRobustConnection

from service.contracts.messages import command_decoder
from service.contracts.reservations import CreateReservation, ReservationLineIn
from service.domain.reservations import OutcomeKind
from service.messaging.worker import Worker
from service.runtime import Runtime
from service.settings import Settings
from service.storage.database import Database
from service.storage.pool import Connection, Pool
from service.usecases.commands import MessageCommands
from service.usecases.expiry import expire_due
from service.usecases.message_idempotency import Delivery
from service.usecases.reservation_flush import Flush
from service.usecases.reservation_steps import Origin, Pending
from service.usecases.reservations import create_step
from tests.helpers import assert_problem, post, receipt, sale
from tests.reservation_helpers import (
    Inbox,
    count_rows,
    create_body,
    eventually,
    figures,
    given_stock,
    ledger_errors,
    movements_of,
    reserve,
)

Client = httpx.AsyncClient


class RolledBack(Exception):
    """Raised by a test to roll its transaction back."""


@pytest.fixture
async def events(broker: AbstractRobustConnection) -> AsyncIterator[Inbox]:
    """A queue bound to inventory.events for every event this file listens to."""
    inbox = await Inbox.open(
        broker,
        "inventory.events",
        "reservation.*",
        "availability.changed",
        "stock.shortage",
    )
    yield inbox
    await inbox.close()


def of_type(inbox: Inbox, kind: str) -> list[dict[str, object]]:
    return [p for p in inbox.payloads() if p["type"] == kind]


# ------------------------------------------------------------------ the outbox


async def test_a_movement_batch_refused_at_its_second_movement_leaves_the_outbox_as_it_was(
    client: Client, db: Database, pool: Pool
) -> None:
    """The first movement alone would report a shortage (an event): the whole batch adds none."""
    await given_stock(db, "ST-A", ("S1", 4))
    assert (await reserve(client, create_body("r-1", "ST-A", ("S1", 3)))).status_code == 201
    before = await count_rows(pool, "outbox")

    refused = await post(client, "k-1", sale("ST-A", 3), receipt("ST-NOWHERE", 1))
    events_after_refusal = await count_rows(pool, "outbox")
    alone = await post(client, "k-2", sale("ST-A", 3))

    assert_problem(refused, 422, "unknown_location", field="movements[1].location_id")
    assert events_after_refusal == before
    assert alone.status_code == 200, alone.text
    assert await count_rows(pool, "outbox", "routing_key = 'stock.shortage'") == 1


async def test_a_movements_message_refused_at_its_second_movement_writes_no_event(
    client: Client, db: Database, pool: Pool, runtime: Runtime
) -> None:
    await given_stock(db, "ST-A", ("S1", 4))
    assert (await reserve(client, create_body("r-1", "ST-A", ("S1", 3)))).status_code == 201
    before = await count_rows(pool, "outbox")
    body = {
        "type": "stock.movements",
        "message_id": "m-1",
        "movements": [sale("ST-A", 3), receipt("ST-NOWHERE", 1)],
    }

    outcome = await MessageCommands(runtime.engine, runtime.db, runtime.settings).start(
        command_decoder.decode(msgspec.json.encode(body)), Delivery()
    )

    assert outcome.code == "unknown_location"
    assert await count_rows(pool, "outbox") == before
    assert (await figures(pool, "ST-A", "S1")).on_hand == 4


async def test_a_reservation_whose_transaction_rolls_back_publishes_nothing(
    worker: Worker, events: Inbox, db: Database, pool: Pool, runtime: Runtime
) -> None:
    """The engine's flush writes its events in the caller's transaction: roll that
    back after the flush wrote everything, and no event leaves."""
    await given_stock(db, "ST-A", ("S1", 5))

    def step(reservation_id: str) -> Pending:
        command = CreateReservation(
            reservation_id=reservation_id, location_id="ST-A", lines=[ReservationLineIn("S1", 1)]
        )
        return Pending(create_step(command, runtime.settings), Origin(actor="test"))

    async def flush_then_fail(conn: Connection) -> None:
        outcomes = await Flush(conn, [step("r-lost")]).run()
        assert [o.kind for o in outcomes] == [OutcomeKind.CREATED]
        assert await conn.fetchval("SELECT count(*) FROM outbox") > 0
        raise RolledBack

    with pytest.raises(RolledBack):
        await db.run(flush_then_fail)
    committed = await db.run(lambda conn: Flush(conn, [step("r-kept")]).run())

    assert [o.kind for o in committed] == [OutcomeKind.CREATED]
    kept = await events.where(lambda p: p["type"] == "reservation.confirmed")
    assert kept["reservation"]["reservation_id"] == "r-kept"
    await events.settle(0.3)
    ids = [p["reservation"]["reservation_id"] for p in of_type(events, "reservation.confirmed")]
    assert ids == ["r-kept"]
    assert await count_rows(pool, "reservations") == 1
    assert (await figures(pool, "ST-A", "S1")).reserved == 1


async def test_a_committed_reservation_is_published_as_reservation_confirmed(
    worker: Worker, events: Inbox, client: Client, db: Database, pool: Pool
) -> None:
    await given_stock(db, "ST-A", ("S1", 5))

    made = await reserve(client, create_body("r-1", "ST-A", ("S1", 2), external_ref="ord-1"))

    confirmed = await events.where(lambda p: p["type"] == "reservation.confirmed")
    assert confirmed["reservation"] == made.json()
    assert confirmed["event_id"]

    async def outbox_empty() -> bool | None:
        return await count_rows(pool, "outbox") == 0 or None

    await eventually(outbox_empty, "the relay to empty the outbox")


async def test_an_event_committed_while_no_relay_runs_is_published_once_one_starts(
    client: Client,
    db: Database,
    pool: Pool,
    messaging_runtime: Runtime,
    broker: AbstractRobustConnection,
    events: Inbox,
) -> None:
    await given_stock(db, "ST-A", ("S1", 5))
    assert (await reserve(client, create_body("r-1", "ST-A", ("S1", 2)))).status_code == 201
    await client.post("/v1/reservations/r-1/cancel")
    assert await count_rows(pool, "outbox", "routing_key LIKE 'reservation.%'") == 2

    relay = Worker(messaging_runtime)
    await relay.start()
    try:
        await events.where(lambda p: p["type"] == "reservation.cancelled")
        await events.settle(0.2)
    finally:
        await relay.stop()

    kinds = [p["type"] for p in events.payloads() if str(p["type"]).startswith("reservation.")]
    assert kinds == ["reservation.confirmed", "reservation.cancelled"]
    assert await count_rows(pool, "outbox") == 0


@pytest.fixture
async def announcer(
    messaging_settings: Settings, clean: None, broker: AbstractRobustConnection
) -> AsyncIterator[Worker]:
    """A worker whose availability events come at most every half second per balance."""
    settings = msgspec.structs.replace(messaging_settings, availability_event_window_s=0.5)
    rt = await Runtime.start(settings)
    running = Worker(rt)
    await running.start()
    yield running
    await running.stop()
    await rt.stop()


async def test_a_burst_on_one_sku_is_coalesced_into_few_availability_events_ending_on_the_last(
    announcer: Worker, events: Inbox, client: Client, db: Database, pool: Pool
) -> None:
    """Fifty reservations, each its own transaction, one after the other."""
    await given_stock(db, "ST-A", ("HOT", 60))
    await events.where(lambda p: p["type"] == "availability.changed" and p["available"] == 60)
    events.received.clear()
    loop = asyncio.get_running_loop()
    started = loop.time()

    for i in range(50):
        response = await reserve(client, create_body(f"r-{i}", "ST-A", ("HOT", 1)))
        assert response.status_code == 201, response.text

    windows = (loop.time() - started) / announcer.runtime.settings.availability_event_window_s
    await events.where(lambda p: p["type"] == "availability.changed" and p["available"] == 10)
    await events.settle(0.6)
    changes = of_type(events, "availability.changed")
    assert len(changes) <= min(10, windows + 2), ([c["available"] for c in changes], windows)
    last = changes[-1]
    now = await figures(pool, "ST-A", "HOT")
    assert (last["sku"], last["location_id"]) == ("HOT", "ST-A")
    assert (last["on_hand"], last["reserved"], last["available"]) == (60, 50, now.available)
    assert last["status"] == "in_stock"


# ------------------------------------------------------------------ expiry


async def test_a_reservation_past_its_ttl_is_released_by_the_sweeper_with_an_expired_event(
    worker: Worker, events: Inbox, client: Client, db: Database, pool: Pool
) -> None:
    await given_stock(db, "ST-A", ("S1", 5), ("S2", 5))
    short = await reserve(client, create_body("r-1", "ST-A", ("S1", 2), ("S2", 1), ttl_seconds=1))
    long = await reserve(client, create_body("r-2", "ST-A", ("S1", 1), ttl_seconds=600))
    assert (short.status_code, long.status_code) == (201, 201)

    expired = await events.where(lambda p: p["type"] == "reservation.expired", within_s=5)

    assert expired["reservation"]["reservation_id"] == "r-1"
    assert expired["reservation"]["status"] == "expired"
    assert (await client.get("/v1/reservations/r-1")).json()["status"] == "expired"
    assert (await client.get("/v1/reservations/r-2")).json()["status"] == "active"
    assert sorted(await movements_of(pool, "r-1")) == [
        ("release", "S1", 0, -2),
        ("release", "S2", 0, -1),
        ("reserve", "S1", 0, 2),
        ("reserve", "S2", 0, 1),
    ]
    assert await pool.fetchval(
        "SELECT array_agg(DISTINCT reason) FROM movements WHERE reference = 'r-1' AND kind = 'release'"
    ) == ["expired"]
    assert (await figures(pool, "ST-A", "S1")).reserved == 1
    assert await ledger_errors(pool) == []


async def test_two_sweepers_at_once_release_each_expired_reservation_exactly_once(
    client: Client, db: Database, pool: Pool, runtime: Runtime, messaging_runtime: Runtime
) -> None:
    """Two replicas' sweepers, each with its own engine and pool, over the same due list."""
    await given_stock(db, "ST-A", ("S1", 100), ("S2", 100))
    total = 40
    made = await asyncio.gather(
        *(
            reserve(client, create_body(f"r-{i}", "ST-A", ("S1", 1), ("S2", 2), ttl_seconds=1))
            for i in range(total)
        )
    )
    assert {m.status_code for m in made} == {201}
    latest: datetime = await pool.fetchval("SELECT max(expires_at) FROM reservations")
    await asyncio.sleep(max(0.0, (latest - datetime.now(UTC)).total_seconds()) + 0.05)

    async def sweep(rt: Runtime) -> int:
        """Sweep in small batches until nothing is left active (racing the other sweeper)."""
        swept = 0
        while await count_rows(pool, "reservations", "status = 'active'"):
            swept += await expire_due(rt.db, rt.engine, limit=7)
        return swept

    decided = runtime.engine.requests, messaging_runtime.engine.requests
    one, two = await asyncio.gather(sweep(runtime), sweep(messaging_runtime))

    tried = runtime.engine.requests - decided[0], messaging_runtime.engine.requests - decided[1]
    assert min(tried) > 0, f"the sweepers did not race: {tried} expiries tried"
    assert one + two == total
    assert await count_rows(pool, "reservations", "status = 'expired'") == total
    releases = await pool.fetch(
        """SELECT reference, sku, count(*) AS n FROM movements
           WHERE kind = 'release' GROUP BY reference, sku"""
    )
    assert len(releases) == total * 2
    assert {r["n"] for r in releases} == {1}
    assert (await figures(pool, "ST-A", "S1")).reserved == 0
    assert (await figures(pool, "ST-A", "S2")).reserved == 0
    assert await ledger_errors(pool) == []
    assert await expire_due(runtime.db, runtime.engine, limit=100) == 0
