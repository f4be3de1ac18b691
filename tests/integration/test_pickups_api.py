"""Pickup settings, slots and bookings over HTTP: what is accepted, what is refused,
and that a refusal leaves nothing behind."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from service.storage.pool import Pool
from tests.pickup_helpers import (
    ALL_DAY,
    Client,
    assert_problem,
    at_noon,
    book,
    booked,
    booking_body,
    events,
    given_pickup_store,
    given_settings,
    given_stock,
    given_store,
    given_warehouse,
    instant,
    ok,
    on_hand_and_reserved,
    pickup_row,
    remaining_in,
    reservations_of,
    slot_usage,
    slots_of,
    table_rows,
    today_utc,
)

CODE = r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}"
WRITTEN_BY_A_BOOKING = (
    "balances",
    "movements",
    "reservations",
    "reservation_lines",
    "pickups",
    "pickup_lines",
    "pickup_slot_usage",
    "outbox",
)


# ------------------------------------------------------------------ settings


async def test_pickup_settings_put_by_an_admin_are_what_the_store_answers_afterwards(
    client: Client,
) -> None:
    await given_store(client, "ST-A")
    await given_warehouse(client, "WH-1")
    settings = {
        "slot_minutes": 15, "capacity_per_slot": 2, "prep_minutes": 45, "horizon_days": 3,
        "hold_hours": 24, "suppliers": [{"warehouse_id": "WH-1", "lead_time_minutes": 90}],
    }  # fmt: skip
    put = await ok(await client.put("/v1/locations/ST-A/pickup-settings", json=settings))
    got = await ok(await client.get("/v1/locations/ST-A/pickup-settings"))
    assert put == got == settings


async def test_a_store_without_settings_answers_the_default_settings(client: Client) -> None:
    await given_store(client, "ST-A")
    got = await ok(await client.get("/v1/locations/ST-A/pickup-settings"))
    assert got == {
        "slot_minutes": 30, "capacity_per_slot": 4, "prep_minutes": 120, "horizon_days": 7,
        "hold_hours": 72, "suppliers": [],
    }  # fmt: skip


async def test_a_supplier_that_is_a_store_is_refused_naming_the_supplier(client: Client) -> None:
    await given_store(client, "ST-A")
    await given_store(client, "ST-B")
    body = {"suppliers": [{"warehouse_id": "ST-B", "lead_time_minutes": 90}]}
    refused = assert_problem(
        await client.put("/v1/locations/ST-A/pickup-settings", json=body), 422, "invalid_input"
    )
    assert refused["field"] == "suppliers[0].warehouse_id"


# ------------------------------------------------------------------ slots


async def test_slots_list_every_slot_of_the_day_with_capacity_and_remaining_places(
    client: Client,
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), slot_minutes=60, capacity_per_slot=3)
    tomorrow = today_utc() + timedelta(days=1)
    answer = await slots_of(client, "ST-A", tomorrow)
    assert answer["timezone"] == "UTC"
    assert len(answer["slots"]) == 24
    assert instant(answer["slots"][0]["starts_at"]) == datetime.combine(
        tomorrow, datetime.min.time(), tzinfo=UTC
    )
    assert {(s["capacity"], s["remaining"]) for s in answer["slots"]} == {(3, 3)}
    assert answer["sourcing"] is None
    assert answer["earliest_ready"] is None


async def test_slots_for_a_cart_the_store_has_say_it_comes_from_the_store(client: Client) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), ("S2", 1), prep_minutes=60)
    before = datetime.now(UTC)
    answer = await ok(
        await client.get(
            "/v1/locations/ST-A/pickup-slots", params=[("line", "S1:2"), ("line", "S2:1")]
        )
    )
    after = datetime.now(UTC)
    assert [(s["sku"], s["quantity"], s["source_location_id"]) for s in answer["sourcing"]] == [
        ("S1", 2, "ST-A"),
        ("S2", 1, "ST-A"),
    ]
    ready_at = instant(answer["sourcing"][0]["ready_at"])
    assert before + timedelta(minutes=60) <= ready_at <= after + timedelta(minutes=60)
    earliest = instant(answer["earliest_ready"]["starts_at"])
    assert ready_at <= earliest < ready_at + timedelta(minutes=30)
    not_ready = [s for s in answer["slots"] if instant(s["starts_at"]) < ready_at]
    assert not_ready
    assert not any(s["cart_ready"] for s in not_ready)


async def test_slots_for_a_cart_nobody_has_offer_no_earliest_slot(client: Client) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 1))
    answer = await ok(await client.get("/v1/locations/ST-A/pickup-slots", params={"line": "S1:2"}))
    assert answer["earliest_ready"] is None
    assert answer["sourcing"] == [
        {"sku": "S1", "quantity": 2, "source_location_id": None, "ready_at": None}
    ]
    assert not any(s["cart_ready"] for s in answer["slots"])


async def test_a_cart_line_that_is_not_sku_colon_quantity_is_refused(client: Client) -> None:
    await given_pickup_store(client, "ST-A")
    response = await client.get("/v1/locations/ST-A/pickup-slots", params={"line": "S1-two"})
    assert assert_problem(response, 422, "invalid_input")["field"] == "line[0]"


# ------------------------------------------------------------------ booking


async def test_a_booking_answers_201_with_the_code_and_the_database_keeps_only_a_hash(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    answer = await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    code = answer["pickup_code"]
    assert re.fullmatch(CODE, code), code
    pickup = answer["pickup"]
    assert pickup["status"] == "booked"
    assert instant(pickup["slot_start"]) == at_noon(1)
    assert instant(pickup["slot_end"]) == at_noon(1, 30)
    assert pickup["lines"] == [
        {"sku": "S1", "quantity": 2, "source_location_id": "ST-A", "collected": 0}
    ]
    tables = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    stored = repr(await table_rows(pool, *(t["tablename"] for t in tables)))
    assert "P1" in stored
    for form in (code, code.replace("-", ""), code.lower(), code.replace("-", "").lower()):
        assert form not in stored
    assert "pickup_code" not in (await ok(await client.get("/v1/pickups/P1")))


async def test_a_booking_reserves_the_cart_until_the_hold_period_ends_and_takes_a_place(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), capacity_per_slot=2, hold_hours=48)
    answer = await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    hold_until = at_noon(1, 30) + timedelta(hours=48)
    assert instant(answer["pickup"]["hold_until"]) == hold_until
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 2)
    (reservation,) = await reservations_of(pool, "P1")
    assert reservation["reservation_id"] == "pickup:P1"
    assert reservation["status"] == "active"
    # the reservation's expiry is computed from a TTL a few milliseconds later
    assert abs(reservation["expires_at"] - hold_until) < timedelta(seconds=1)
    assert await slot_usage(pool, "ST-A", at_noon(1)) == 1
    assert await remaining_in(client, "ST-A", at_noon(1)) == 1
    assert [key for key, _ in await events(pool)] == ["pickup.booked"]


async def test_the_same_booking_again_answers_200_with_the_same_code_and_books_nothing_more(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    first = await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    again = await book(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    assert again.status_code == 200, again.text
    assert again.json() == first
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 2)
    assert await slot_usage(pool, "ST-A", at_noon(1)) == 1
    assert len(await events(pool)) == 1


async def test_a_pickup_id_booked_again_with_other_content_is_409_pickup_conflict(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    before = await table_rows(pool, *WRITTEN_BY_A_BOOKING)
    response = await book(client, "P1", "ST-A", at_noon(1), ("S1", 3))
    assert assert_problem(response, 409, "pickup_conflict")["field"] == "pickup_id"
    assert await table_rows(pool, *WRITTEN_BY_A_BOOKING) == before


async def test_a_full_slot_is_409_slot_unavailable_and_reserves_nothing(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), capacity_per_slot=1)
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 1))
    before = await table_rows(pool, *WRITTEN_BY_A_BOOKING)
    response = await book(client, "P2", "ST-A", at_noon(1), ("S1", 1))
    assert assert_problem(response, 409, "slot_unavailable")["field"] == "slot_start"
    assert await table_rows(pool, *WRITTEN_BY_A_BOOKING) == before
    await booked(client, "P3", "ST-A", at_noon(1, 30), ("S1", 1))


async def test_a_slot_on_a_closed_date_is_409_slot_unavailable(client: Client) -> None:
    closed = today_utc() + timedelta(days=2)
    hours = {**ALL_DAY, "closed_dates": [closed.isoformat()]}
    await given_store(client, "ST-A", opening_hours=hours)
    await given_settings(client, "ST-A")
    await given_stock(client, "ST-A", ("S1", 5))
    response = await book(client, "P1", "ST-A", at_noon(2), ("S1", 1))
    assert assert_problem(response, 409, "slot_unavailable")["field"] == "slot_start"
    assert (await slots_of(client, "ST-A", closed))["slots"] == []


async def test_a_slot_before_the_cart_can_be_prepared_is_409_slot_unavailable(
    client: Client,
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), prep_minutes=60 * 24 * 3)
    response = await book(client, "P1", "ST-A", at_noon(1), ("S1", 1))
    assert_problem(response, 409, "slot_unavailable")


@pytest.mark.parametrize(
    ("days_from_today", "why"), [(-1, "in the past"), (10, "beyond the 7-day horizon")]
)
async def test_a_slot_out_of_the_bookable_range_is_422_slot_out_of_range(
    client: Client, pool: Pool, days_from_today: int, why: str
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), horizon_days=7)
    before = await table_rows(pool, *WRITTEN_BY_A_BOOKING)
    response = await book(client, "P1", "ST-A", at_noon(days_from_today), ("S1", 1))
    assert assert_problem(response, 422, "slot_out_of_range")["field"] == "slot_start", why
    assert await table_rows(pool, *WRITTEN_BY_A_BOOKING) == before


async def test_a_time_that_is_not_the_start_of_a_slot_is_422_slot_not_found(
    client: Client,
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), slot_minutes=30)
    response = await book(client, "P1", "ST-A", at_noon(1, 10), ("S1", 1))
    assert assert_problem(response, 422, "slot_not_found")["field"] == "slot_start"


async def test_missing_stock_is_409_insufficient_stock_naming_the_lines_and_takes_nothing(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), ("S2", 1), capacity_per_slot=1)
    before = await table_rows(pool, *WRITTEN_BY_A_BOOKING)
    response = await book(client, "P1", "ST-A", at_noon(1), ("S1", 2), ("S2", 3), ("S3", 1))
    body = assert_problem(response, 409, "insufficient_stock")
    assert sorted(x["sku"] for x in body["short_lines"]) == ["S2", "S3"]
    assert {x["sku"]: x["requested"] for x in body["short_lines"]} == {"S2": 3, "S3": 1}
    assert await table_rows(pool, *WRITTEN_BY_A_BOOKING) == before
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 0)
    assert await remaining_in(client, "ST-A", at_noon(1)) == 1


async def test_a_store_that_does_not_offer_pickup_is_422_pickup_not_offered(
    client: Client,
) -> None:
    await given_store(client, "ST-A", pickup_offered=False)
    await given_stock(client, "ST-A", ("S1", 5))
    response = await book(client, "P1", "ST-A", at_noon(1), ("S1", 1))
    assert_problem(response, 422, "pickup_not_offered")
    response = await client.get("/v1/locations/ST-A/pickup-slots")
    assert_problem(response, 422, "pickup_not_offered")


async def test_a_warehouse_is_422_pickup_not_offered(client: Client) -> None:
    await given_warehouse(client, "WH-1")
    await given_stock(client, "WH-1", ("S1", 5))
    assert_problem(
        await book(client, "P1", "WH-1", at_noon(1), ("S1", 1)), 422, "pickup_not_offered"
    )


async def test_a_booking_at_an_unknown_location_is_422_unknown_location(client: Client) -> None:
    response = await book(client, "P1", "ST-NOWHERE", at_noon(1), ("S1", 1))
    assert assert_problem(response, 422, "unknown_location")["field"] == "location_id"


async def test_a_slot_time_without_a_timezone_is_refused_and_books_nothing(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    body = booking_body("P1", "ST-A", at_noon(1), ("S1", 1))
    body["slot_start"] = at_noon(1).replace(tzinfo=None).isoformat()
    response = await client.post("/v1/pickups", json=body)
    assert response.status_code == 422, response.text
    assert await table_rows(pool, "pickups") == {"pickups": []}


# ------------------------------------------------------------------ the day list


async def test_the_day_list_shows_a_stores_pickups_of_one_day_ordered_by_slot(
    client: Client,
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 9))
    await given_pickup_store(client, "ST-B", ("S1", 9))
    await booked(client, "P-LATE", "ST-A", at_noon(1, 30), ("S1", 1))
    await booked(client, "P-EARLY", "ST-A", at_noon(1), ("S1", 1))
    await booked(client, "P-OTHER-DAY", "ST-A", at_noon(2), ("S1", 1))
    await booked(client, "P-OTHER-STORE", "ST-B", at_noon(1), ("S1", 1))
    await ok(await client.post("/v1/pickups/P-LATE/ready"))
    tomorrow = str(today_utc() + timedelta(days=1))
    day = await ok(await client.get("/v1/locations/ST-A/pickups", params={"date": tomorrow}))
    assert day["location_id"] == "ST-A"
    assert [p["pickup_id"] for p in day["pickups"]] == ["P-EARLY", "P-LATE"]
    ready = await ok(
        await client.get("/v1/locations/ST-A/pickups", params={"date": tomorrow, "status": "ready"})
    )
    assert [p["pickup_id"] for p in ready["pickups"]] == ["P-LATE"]
    today = await ok(await client.get("/v1/locations/ST-A/pickups"))
    assert today["pickups"] == []


async def test_the_day_list_takes_the_day_on_the_stores_own_clock(client: Client) -> None:
    await given_store(client, "ST-TOKYO", timezone="Asia/Tokyo")  # UTC+9 all year
    await given_settings(client, "ST-TOKYO")
    await given_stock(client, "ST-TOKYO", ("S1", 5))
    evening_utc = at_noon(1) + timedelta(hours=8)  # 20:00 UTC is 05:00 the next day in Tokyo
    await booked(client, "P-TOKYO", "ST-TOKYO", evening_utc, ("S1", 1))
    utc_day, tokyo_day = evening_utc.date(), evening_utc.date() + timedelta(days=1)
    for day, expected in ((utc_day, []), (tokyo_day, ["P-TOKYO"])):
        listed = await ok(
            await client.get("/v1/locations/ST-TOKYO/pickups", params={"date": str(day)})
        )
        assert [p["pickup_id"] for p in listed["pickups"]] == expected, day


async def test_a_pickup_can_be_read_back_as_it_was_booked(client: Client, pool: Pool) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    answer = await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    assert await ok(await client.get("/v1/pickups/P1")) == answer["pickup"]
    assert (await pickup_row(pool, "P1"))["status"] == "booked"
    assert_problem(await client.get("/v1/pickups/P-UNKNOWN"), 404, "pickup_not_found")
