"""A store that lacks a line books it from a supplying warehouse: the warehouse stock
is reserved, the earliest slot waits for the transfer, `ready` moves the goods and
collecting sells them at the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from service.storage.pool import Pool
from tests.pickup_helpers import (
    Client,
    assert_problem,
    at_noon,
    book,
    booked,
    given_settings,
    given_stock,
    given_store,
    given_warehouse,
    instant,
    ledger_errors,
    movements_about,
    ok,
    on_hand_and_reserved,
    reservations_of,
)

LEAD = 240  # minutes from the warehouse to the store


async def given_store_supplied_by_warehouses(client: Client) -> None:
    """ST-A has S1; WH-FAST (LEAD) and WH-SLOW (a day) supply it; S2 is only in the warehouses."""
    await given_store(client, "ST-A")
    await given_warehouse(client, "WH-FAST")
    await given_warehouse(client, "WH-SLOW")
    await given_settings(
        client, "ST-A", prep_minutes=0, slot_minutes=30,
        suppliers=[
            {"warehouse_id": "WH-SLOW", "lead_time_minutes": 24 * 60},
            {"warehouse_id": "WH-FAST", "lead_time_minutes": LEAD},
        ],
    )  # fmt: skip
    await given_stock(client, "ST-A", ("S1", 5))
    await given_stock(client, "WH-FAST", ("S2", 4))
    await given_stock(client, "WH-SLOW", ("S2", 10))


async def slots_for_cart(client: Client, *lines: str) -> dict[str, Any]:
    params = httpx.QueryParams([("line", line) for line in lines])
    return await ok(await client.get("/v1/locations/ST-A/pickup-slots", params=params))


async def test_slots_say_a_line_comes_from_the_fastest_warehouse_and_wait_for_its_lead_time(
    client: Client,
) -> None:
    await given_store_supplied_by_warehouses(client)
    before = datetime.now(UTC)
    answer = await slots_for_cart(client, "S1:1", "S2:3")
    after = datetime.now(UTC)
    sources = {s["sku"]: s for s in answer["sourcing"]}
    assert sources["S1"]["source_location_id"] == "ST-A"
    assert sources["S2"]["source_location_id"] == "WH-FAST"
    ready_at = instant(sources["S2"]["ready_at"])
    assert before + timedelta(minutes=LEAD) <= ready_at <= after + timedelta(minutes=LEAD)
    earliest = instant(answer["earliest_ready"]["starts_at"])
    assert ready_at <= earliest < ready_at + timedelta(minutes=30)
    earlier = [s for s in answer["slots"] if instant(s["starts_at"]) < earliest]
    assert earlier
    assert not any(s["cart_ready"] for s in earlier)


async def test_when_the_fast_warehouse_is_short_the_slow_one_supplies_and_the_wait_is_longer(
    client: Client,
) -> None:
    await given_store_supplied_by_warehouses(client)
    before = datetime.now(UTC)
    answer = await slots_for_cart(client, "S2:6")
    (source,) = answer["sourcing"]
    assert source["source_location_id"] == "WH-SLOW"
    assert instant(answer["earliest_ready"]["starts_at"]) >= before + timedelta(hours=24)


async def test_a_slot_before_the_transfer_can_arrive_is_409_slot_unavailable(
    client: Client, pool: Pool
) -> None:
    await given_store_supplied_by_warehouses(client)
    answer = await slots_for_cart(client, "S2:1")
    too_early = instant(answer["earliest_ready"]["starts_at"]) - timedelta(minutes=30)
    assert_problem(await book(client, "P1", "ST-A", too_early, ("S2", 1)), 409, "slot_unavailable")
    assert await on_hand_and_reserved(pool, "WH-FAST", "S2") == (4, 0)


async def test_a_booking_reserves_each_line_where_it_comes_from(client: Client, pool: Pool) -> None:
    await given_store_supplied_by_warehouses(client)
    answer = await booked(client, "P1", "ST-A", at_noon(1), ("S1", 1), ("S2", 3))
    assert [(x["sku"], x["source_location_id"]) for x in answer["pickup"]["lines"]] == [
        ("S1", "ST-A"),
        ("S2", "WH-FAST"),
    ]
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 1)
    assert await on_hand_and_reserved(pool, "WH-FAST", "S2") == (4, 3)
    assert await on_hand_and_reserved(pool, "WH-SLOW", "S2") == (10, 0)
    reservations = await reservations_of(pool, "P1")
    assert [(r["location_id"], r["reservation_id"]) for r in reservations] == [
        ("ST-A", "pickup:P1"),
        ("WH-FAST", "pickup:P1@WH-FAST"),
    ]
    hold_until = instant(answer["pickup"]["hold_until"])
    assert all(abs(r["expires_at"] - hold_until) < timedelta(seconds=1) for r in reservations)


async def incoming_and_transfer(pool: Pool) -> tuple[int, tuple[int, int, int]]:
    """The store's incoming S2, and the pickup transfer line's (quantity, received, cancelled)."""
    incoming = await pool.fetchval(
        "SELECT incoming FROM balances WHERE location_id = 'ST-A' AND sku = 'S2'"
    )
    line = await pool.fetchrow(
        "SELECT quantity, received, cancelled FROM transfers WHERE transfer_id = 'pickup:P1:WH-FAST'"
    )
    assert line is not None, "the booking created no transfer"
    return incoming, (line["quantity"], line["received"], line["cancelled"])


async def test_a_booking_sourced_from_a_warehouse_creates_the_transfer_and_a_cancel_calls_it_off(
    client: Client, pool: Pool
) -> None:
    await given_store_supplied_by_warehouses(client)
    await booked(client, "P1", "ST-A", at_noon(1), ("S2", 3))
    assert await incoming_and_transfer(pool) == (3, (3, 0, 0))
    await ok(await client.post("/v1/pickups/P1/cancel"))
    assert await incoming_and_transfer(pool) == (0, (3, 0, 3))
    assert await on_hand_and_reserved(pool, "WH-FAST", "S2") == (4, 0)
    assert await ledger_errors(pool) == []


async def test_a_pickup_transfer_cannot_be_received_through_the_movements_api(
    client: Client, pool: Pool
) -> None:
    await given_store_supplied_by_warehouses(client)
    await booked(client, "P1", "ST-A", at_noon(1), ("S2", 3))
    response = await client.post(
        "/v1/stock/movements",
        json={"movements": [{"kind": "transfer_receipt", "sku": "S2", "location_id": "ST-A", "quantity": 3, "transfer_id": "pickup:P1:WH-FAST"}]},
        headers={"Idempotency-Key": "wms-1"},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["field"] == "movements[0].transfer_id"
    assert await incoming_and_transfer(pool) == (3, (3, 0, 0))


async def test_ready_moves_the_goods_from_the_warehouse_into_the_stores_reserved_stock(
    client: Client, pool: Pool
) -> None:
    await given_store_supplied_by_warehouses(client)
    await booked(client, "P1", "ST-A", at_noon(1), ("S2", 3))
    assert await incoming_and_transfer(pool) == (3, (3, 0, 0))
    await ok(await client.post("/v1/pickups/P1/ready"))
    assert await on_hand_and_reserved(pool, "WH-FAST", "S2") == (1, 0)
    assert await on_hand_and_reserved(pool, "ST-A", "S2") == (3, 3)
    assert await incoming_and_transfer(pool) == (0, (3, 3, 0))
    assert (await movements_about(pool, "WH-FAST", "S2"))[-1] == ("transfer_out", -3, -3)
    assert await movements_about(pool, "ST-A", "S2") == [
        ("transfer_in", 0, 0),
        ("transfer_receipt", 3, 0),
        ("reserve", 0, 3),
    ]
    availability = await ok(await client.get("/v1/availability/S2/locations/ST-A"))
    assert availability["available"] == 0
    assert await ledger_errors(pool) == []


async def test_collecting_a_transferred_line_sells_it_at_the_store_and_the_ledger_verifies(
    client: Client, pool: Pool
) -> None:
    await given_store_supplied_by_warehouses(client)
    code = (await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2), ("S2", 3)))["pickup_code"]
    await ok(await client.post("/v1/pickups/P1/ready"))
    answer = await ok(await client.post("/v1/pickups/P1/collect", json={"code": code}))
    assert answer["status"] == "collected"
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (3, 0)
    assert await on_hand_and_reserved(pool, "ST-A", "S2") == (0, 0)
    assert await on_hand_and_reserved(pool, "WH-FAST", "S2") == (1, 0)
    assert (await movements_about(pool, "ST-A", "S2"))[-1] == ("fulfil", -3, -3)
    statuses = {r["reservation_id"]: r["status"] for r in await reservations_of(pool, "P1")}
    assert statuses == {
        "pickup:P1": "fulfilled",
        "pickup:P1@WH-FAST": "fulfilled",
        "pickup:P1:arrived": "fulfilled",
    }
    assert await ledger_errors(pool) == []


async def test_cancelling_a_warehouse_sourced_booking_releases_the_warehouse_stock(
    client: Client, pool: Pool
) -> None:
    await given_store_supplied_by_warehouses(client)
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 1), ("S2", 3))
    await ok(await client.post("/v1/pickups/P1/cancel"))
    assert await on_hand_and_reserved(pool, "WH-FAST", "S2") == (4, 0)
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 0)
    assert await ledger_errors(pool) == []


async def test_a_line_neither_the_store_nor_a_warehouse_has_is_409_insufficient_stock(
    client: Client, pool: Pool
) -> None:
    await given_store_supplied_by_warehouses(client)
    response = await book(client, "P1", "ST-A", at_noon(1), ("S1", 1), ("S2", 11))
    body = assert_problem(response, 409, "insufficient_stock")
    assert [x["sku"] for x in body["short_lines"]] == ["S2"]
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 0)
    assert await reservations_of(pool, "P1") == []


async def test_a_warehouse_sourced_booking_cannot_be_rescheduled_before_the_transfer_arrives(
    client: Client, pool: Pool
) -> None:
    await given_store_supplied_by_warehouses(client)
    await booked(client, "P1", "ST-A", at_noon(1), ("S2", 1))
    answer = await slots_for_cart(client, "S2:1")
    too_early = instant(answer["earliest_ready"]["starts_at"]) - timedelta(minutes=30)
    response = await client.post(
        "/v1/pickups/P1/reschedule", json={"slot_start": too_early.isoformat()}
    )
    assert_problem(response, 409, "slot_unavailable")
    moved = await client.post(
        "/v1/pickups/P1/reschedule", json={"slot_start": at_noon(2).isoformat()}
    )
    assert instant((await ok(moved))["slot_start"]) == at_noon(2)
    assert await on_hand_and_reserved(pool, "WH-FAST", "S2") == (4, 1)
