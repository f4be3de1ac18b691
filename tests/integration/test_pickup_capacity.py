"""Slot capacity under concurrent bookings: the last place goes to exactly one.

The racers are real parallel requests (several app replicas, one connection each
from the service's pool). To make sure they really meet, a transaction of the
test's own holds the slot's capacity row while they start; every racer then
waits on that row lock, and all of them go at once when it commits.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from litestar import Litestar

from service.settings import Settings
from service.storage.pool import Pool
from tests.pickup_helpers import (
    Client,
    at_noon,
    book,
    booked,
    given_pickup_store,
    ledger_errors,
    on_hand_and_reserved,
    slot_usage,
)

Race = Callable[[list[str]], Awaitable[list[httpx.Response]]]
REPLICAS = 4


@asynccontextmanager
async def slot_held(pool: Pool, location_id: str) -> AsyncIterator[None]:
    """Hold tomorrow noon's capacity row of ``location_id`` (as a booking would)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """INSERT INTO pickup_slot_usage AS u (location_id, slot_start) VALUES ($1, $2)
               ON CONFLICT (location_id, slot_start) DO UPDATE SET booked = u.booked""",
            location_id,
            at_noon(1),
        )
        yield


async def until_waiting_on_locks(pool: Pool, count: int, within_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        waiting = await pool.fetchval(
            """SELECT count(*) FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock'"""
        )
        if waiting >= count:
            return
        assert loop.time() < deadline, f"{waiting} of {count} racers reached the slot lock"
        await asyncio.sleep(0.01)


@pytest.fixture
async def race(
    app: Litestar, client: Client, pool: Pool, settings: Settings
) -> AsyncIterator[Race]:
    """``await race(pickup_ids)``: book tomorrow noon at ST-A for each id (one unit of
    S1), all at once across the replicas; the answers in order."""
    headers = {"Authorization": client.headers["Authorization"]}
    clients = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=f"http://replica-{i}.test",
            headers=headers,
        )
        for i in range(REPLICAS)
    ]  # fmt: skip

    async def run(pickup_ids: list[str]) -> list[httpx.Response]:
        async with slot_held(pool, "ST-A"):
            racing = asyncio.gather(
                *(
                    book(clients[i % REPLICAS], pid, "ST-A", at_noon(1), ("S1", 1))
                    for i, pid in enumerate(pickup_ids)
                )
            )
            await until_waiting_on_locks(pool, min(len(pickup_ids), settings.db_pool_max))
        return list(await racing)

    yield run
    for c in clients:
        await c.aclose()


async def pickups_in_slot(pool: Pool, location_id: str) -> int:
    value: int = await pool.fetchval(
        """SELECT count(*) FROM pickups
           WHERE location_id = $1 AND slot_start = $2 AND status IN ('booked', 'ready')""",
        location_id,
        at_noon(1),
    )
    return value


def outcomes(responses: list[httpx.Response]) -> Counter[tuple[int, str | None]]:
    return Counter(
        (r.status_code, r.json().get("code") if r.status_code >= 400 else None) for r in responses
    )


async def test_of_many_concurrent_bookings_for_the_last_place_exactly_one_wins(
    race: Race, client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 100), capacity_per_slot=3)
    await booked(client, "P-FIRST", "ST-A", at_noon(1), ("S1", 1))
    await booked(client, "P-SECOND", "ST-A", at_noon(1), ("S1", 1))
    responses = await race([f"P-RACE-{i}" for i in range(16)])
    assert outcomes(responses) == {(201, None): 1, (409, "slot_unavailable"): 15}
    assert await slot_usage(pool, "ST-A", at_noon(1)) == 3
    assert await pickups_in_slot(pool, "ST-A") == 3
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (100, 3)
    assert await ledger_errors(pool) == []


async def test_concurrent_bookings_fill_a_slot_exactly_to_its_capacity(
    race: Race, client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 100), capacity_per_slot=5)
    responses = await race([f"P-{i}" for i in range(20)])
    assert outcomes(responses) == {(201, None): 5, (409, "slot_unavailable"): 15}
    assert await slot_usage(pool, "ST-A", at_noon(1)) == 5
    assert await pickups_in_slot(pool, "ST-A") == 5
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (100, 5)


async def test_when_stock_runs_out_before_places_do_only_the_stock_is_booked(
    race: Race, client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 3), capacity_per_slot=10)
    responses = await race([f"P-{i}" for i in range(8)])
    assert outcomes(responses) == {(201, None): 3, (409, "insufficient_stock"): 5}
    assert await slot_usage(pool, "ST-A", at_noon(1)) == 3
    assert await pickups_in_slot(pool, "ST-A") == 3
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (3, 3)
    assert await ledger_errors(pool) == []


@pytest.mark.parametrize("capacity", [5, 1])
async def test_the_same_booking_sent_concurrently_books_once_and_answers_one_code(
    race: Race, client: Client, pool: Pool, capacity: int
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 100), capacity_per_slot=capacity)
    responses = await race(["P-TWIN"] * 8)
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201], [
        r.text for r in responses
    ]
    assert len({r.json()["pickup_code"] for r in responses}) == 1
    assert await slot_usage(pool, "ST-A", at_noon(1)) == 1
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (100, 1)
    assert await ledger_errors(pool) == []


async def test_a_place_freed_by_a_cancellation_can_be_taken_by_exactly_one_of_many(
    app: Litestar, client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 100), capacity_per_slot=1)
    await booked(client, "P-GONE", "ST-A", at_noon(1), ("S1", 1))
    cancelled, *responses = await asyncio.gather(
        client.post("/v1/pickups/P-GONE/cancel"),
        *(book(client, f"P-{i}", "ST-A", at_noon(1), ("S1", 1)) for i in range(8)),
    )
    assert cancelled.status_code == 200, cancelled.text
    won = [r for r in responses if r.status_code == 201]
    assert len(won) <= 1
    assert all(r.json()["code"] == "slot_unavailable" for r in responses if r.status_code != 201)
    assert await slot_usage(pool, "ST-A", at_noon(1)) == len(won)
    assert await pickups_in_slot(pool, "ST-A") == len(won)
