"""A pickup's life over HTTP: ready, collect with the code (all or part), wrong and
locked codes, reschedule, cancel, retries, the no-show sweep, counter returns."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from service.runtime import Runtime
from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases import pickup_counter
from service.usecases.pickup_changes import mark_no_shows
from tests.pickup_helpers import (
    Client,
    assert_problem,
    at_noon,
    booked,
    events,
    given_pickup_store,
    instant,
    ledger_errors,
    movements_about,
    ok,
    on_hand_and_reserved,
    pickup_row,
    remaining_in,
    reservations_of,
    slot_usage,
)


async def ready(client: Client, pickup_id: str) -> dict[str, Any]:
    return await ok(await client.post(f"/v1/pickups/{pickup_id}/ready"))


async def collect(client: Client, pickup_id: str, code: str, **more: Any) -> httpx.Response:
    return await client.post(f"/v1/pickups/{pickup_id}/collect", json={"code": code, **more})


async def ready_pickup(
    client: Client, *stock: tuple[str, int], lines: list[tuple[str, int]]
) -> str:
    """A store ST-A with ``stock`` and a pickup P1 of ``lines``, marked ready; its code."""
    await given_pickup_store(client, "ST-A", *stock)
    answer = await booked(client, "P1", "ST-A", at_noon(1), *lines)
    await ready(client, "P1")
    code: str = answer["pickup_code"]
    return code


# ------------------------------------------------------------------ ready and collect


async def test_ready_tells_the_customer_and_changes_no_stock(client: Client, pool: Pool) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    answer = await ready(client, "P1")
    assert answer["status"] == "ready"
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 2)
    ((key, event),) = (await events(pool))[1:]
    assert key == "pickup.ready"
    assert event["pickup"]["pickup_id"] == "P1"
    assert event["pickup"]["status"] == "ready"


async def test_collecting_with_the_code_turns_the_reservation_into_a_sale(
    client: Client, pool: Pool
) -> None:
    code = await ready_pickup(client, ("S1", 5), ("S2", 3), lines=[("S1", 2), ("S2", 1)])
    answer = await ok(await collect(client, "P1", code))
    assert answer["status"] == "collected"
    assert [(x["sku"], x["collected"]) for x in answer["lines"]] == [("S1", 2), ("S2", 1)]
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (3, 0)
    assert await on_hand_and_reserved(pool, "ST-A", "S2") == (2, 0)
    assert (await movements_about(pool, "ST-A", "S1"))[-2:] == [
        ("reserve", 0, 2),
        ("fulfil", -2, -2),
    ]
    (reservation,) = await reservations_of(pool, "P1")
    assert reservation["status"] == "fulfilled"
    assert [key for key, _ in await events(pool)] == [
        "pickup.booked",
        "pickup.ready",
        "pickup.collected",
    ]
    assert await ledger_errors(pool) == []


async def test_the_code_is_accepted_in_lower_case_without_the_dash(client: Client) -> None:
    code = await ready_pickup(client, ("S1", 5), lines=[("S1", 1)])
    answer = await ok(await collect(client, "P1", code.replace("-", "").lower()))
    assert answer["status"] == "collected"


async def test_a_partial_collection_sells_what_was_taken_and_returns_the_rest_to_available(
    client: Client, pool: Pool
) -> None:
    code = await ready_pickup(client, ("S1", 5), ("S2", 3), lines=[("S1", 3), ("S2", 2)])
    lines = [{"sku": "S1", "quantity": 1}]
    answer = await ok(await collect(client, "P1", code, lines=lines))
    assert [(x["sku"], x["quantity"], x["collected"]) for x in answer["lines"]] == [
        ("S1", 3, 1),
        ("S2", 2, 0),
    ]
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (4, 0)
    assert await on_hand_and_reserved(pool, "ST-A", "S2") == (3, 0)
    assert (await movements_about(pool, "ST-A", "S1"))[-2:] == [
        ("fulfil", -1, -1),
        ("release", 0, -2),
    ]
    assert (await movements_about(pool, "ST-A", "S2"))[-1] == ("release", 0, -2)
    availability = await ok(await client.get("/v1/availability/S1/locations/ST-A"))
    assert availability["available"] == 4
    assert await ledger_errors(pool) == []


async def test_handing_over_more_than_was_booked_is_refused_and_sells_nothing(
    client: Client, pool: Pool
) -> None:
    code = await ready_pickup(client, ("S1", 5), lines=[("S1", 2)])
    response = await collect(client, "P1", code, lines=[{"sku": "S1", "quantity": 3}])
    assert assert_problem(response, 422, "invalid_input")["field"] == "lines[0].quantity"
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 2)
    assert (await pickup_row(pool, "P1"))["status"] == "ready"


async def test_handing_over_one_sku_in_two_lines_is_refused_rather_than_half_recorded(
    client: Client, pool: Pool
) -> None:
    code = await ready_pickup(client, ("S1", 5), lines=[("S1", 3)])
    lines = [{"sku": "S1", "quantity": 1}, {"sku": "S1", "quantity": 2}]
    response = await collect(client, "P1", code, lines=lines)
    assert assert_problem(response, 422, "invalid_input")["field"] == "lines[1].sku"
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 3)
    assert (await pickup_row(pool, "P1"))["status"] == "ready"


async def test_a_booked_pickup_cannot_be_collected_before_it_is_ready(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    code = (await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2)))["pickup_code"]
    assert_problem(await collect(client, "P1", code), 409, "invalid_transition")
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 2)


# ------------------------------------------------------------------ wrong codes


async def test_a_wrong_code_is_422_and_hands_nothing_over(client: Client, pool: Pool) -> None:
    code = await ready_pickup(client, ("S1", 5), lines=[("S1", 2)])
    wrong = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"
    body = assert_problem(await collect(client, "P1", wrong), 422, "wrong_pickup_code")
    assert body["field"] == "code"
    assert "4 tries left" in body["detail"]
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 2)
    row = await pickup_row(pool, "P1")
    assert (row["status"], row["failed_attempts"]) == ("ready", 1)


async def test_five_wrong_codes_lock_the_pickup_and_even_the_right_code_is_refused(
    client: Client, pool: Pool
) -> None:
    code = await ready_pickup(client, ("S1", 5), lines=[("S1", 2)])
    wrong = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"
    for _ in range(4):
        assert_problem(await collect(client, "P1", wrong), 422, "wrong_pickup_code")
    assert_problem(await collect(client, "P1", wrong), 423, "pickup_locked")
    assert_problem(await collect(client, "P1", code), 423, "pickup_locked")
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 2)
    row = await pickup_row(pool, "P1")
    assert row["status"] == "ready"
    assert row["locked_until"] is not None


async def test_the_right_code_is_accepted_again_once_the_lockout_is_over(
    client: Client, db: Database, pool: Pool, runtime: Runtime
) -> None:
    code = await ready_pickup(client, ("S1", 5), lines=[("S1", 2)])
    for _ in range(5):
        await collect(client, "P1", "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY")
    locked_until = (await pickup_row(pool, "P1"))["locked_until"]
    done = await pickup_counter.collect(
        db,
        "P1",
        code,
        None,
        actor="test",
        may_act_at=lambda _: None,
        code_secrets=runtime.code_secrets,
        now=locked_until + timedelta(seconds=1),
    )
    assert done.status == "collected"
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (3, 0)


# ------------------------------------------------------------------ retries


async def test_marking_a_ready_pickup_ready_again_answers_the_same_and_announces_once(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    first = await ready(client, "P1")
    assert await ready(client, "P1") == first
    assert [key for key, _ in await events(pool)].count("pickup.ready") == 1


async def test_a_collected_pickup_is_finished_for_every_code_and_sells_once(
    client: Client, pool: Pool
) -> None:
    # The same refusal for the right code and a wrong one: a finished pickup's code
    # cannot be tried out (no guess is counted or locks anything once it is collected).
    code = await ready_pickup(client, ("S1", 5), lines=[("S1", 2)])
    await ok(await collect(client, "P1", code))
    wrong = "0" * len(code) if code != "0" * len(code) else "1" * len(code)
    right_again = await collect(client, "P1", code)
    wrong_again = await collect(client, "P1", wrong)
    assert_problem(right_again, 409, "invalid_transition")
    assert_problem(wrong_again, 409, "invalid_transition")
    assert right_again.json()["detail"] == wrong_again.json()["detail"]
    assert (await ok(await client.get("/v1/pickups/P1")))["status"] == "collected"
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (3, 0)
    assert [k for k, _, _ in await movements_about(pool, "ST-A", "S1")].count("fulfil") == 1


async def test_cancelling_a_cancelled_pickup_answers_the_same_and_releases_once(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    first = await ok(await client.post("/v1/pickups/P1/cancel", json={"reason": "changed mind"}))
    again = await ok(await client.post("/v1/pickups/P1/cancel", json={"reason": "changed mind"}))
    assert again == first
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 0)
    assert [k for k, _, _ in await movements_about(pool, "ST-A", "S1")].count("release") == 1
    assert await slot_usage(pool, "ST-A", at_noon(1)) == 0


# ------------------------------------------------------------------ cancel


async def test_cancelling_releases_the_stock_frees_the_place_and_announces_the_reason(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), capacity_per_slot=1)
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    assert await remaining_in(client, "ST-A", at_noon(1)) == 0
    answer = await ok(await client.post("/v1/pickups/P1/cancel", json={"reason": "changed mind"}))
    assert answer["status"] == "cancelled"
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 0)
    assert await remaining_in(client, "ST-A", at_noon(1)) == 1
    (reservation,) = await reservations_of(pool, "P1")
    assert reservation["status"] == "cancelled"
    key, event = (await events(pool))[-1]
    assert (key, event["reason"], event["pickup"]["status"]) == (
        "pickup.cancelled",
        "changed mind",
        "cancelled",
    )
    await booked(client, "P2", "ST-A", at_noon(1), ("S1", 5))


async def test_a_ready_pickup_can_be_cancelled_without_a_body(client: Client, pool: Pool) -> None:
    await ready_pickup(client, ("S1", 5), lines=[("S1", 2)])
    assert (await ok(await client.post("/v1/pickups/P1/cancel")))["status"] == "cancelled"
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 0)


async def test_a_collected_pickup_can_be_neither_cancelled_nor_made_ready(
    client: Client, pool: Pool
) -> None:
    code = await ready_pickup(client, ("S1", 5), lines=[("S1", 2)])
    await ok(await collect(client, "P1", code))
    assert_problem(await client.post("/v1/pickups/P1/cancel"), 409, "invalid_transition")
    assert_problem(await client.post("/v1/pickups/P1/ready"), 409, "invalid_transition")
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (3, 0)


async def test_a_cancelled_pickup_cannot_be_made_ready_or_collected(client: Client) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    code = (await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2)))["pickup_code"]
    await ok(await client.post("/v1/pickups/P1/cancel"))
    assert_problem(await client.post("/v1/pickups/P1/ready"), 409, "invalid_transition")
    assert_problem(await collect(client, "P1", code), 409, "invalid_transition")


# ------------------------------------------------------------------ reschedule


async def test_rescheduling_keeps_the_reservation_and_moves_the_place_and_the_expiry(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), capacity_per_slot=2, hold_hours=24)
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    (before,) = await reservations_of(pool, "P1")
    movements_before = await movements_about(pool, "ST-A", "S1")
    response = await client.post(
        "/v1/pickups/P1/reschedule", json={"slot_start": at_noon(2).isoformat()}
    )
    answer = await ok(response)
    new_hold = at_noon(2, 30) + timedelta(hours=24)
    assert instant(answer["slot_start"]) == at_noon(2)
    assert instant(answer["hold_until"]) == new_hold
    (after,) = await reservations_of(pool, "P1")
    assert (after["reservation_id"], after["created_at"], after["status"]) == (
        before["reservation_id"],
        before["created_at"],
        "active",
    )
    assert after["expires_at"] == new_hold
    assert await movements_about(pool, "ST-A", "S1") == movements_before
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 2)
    assert await remaining_in(client, "ST-A", at_noon(1)) == 2
    assert await remaining_in(client, "ST-A", at_noon(2)) == 1
    assert (
        await slot_usage(pool, "ST-A", at_noon(1)),
        await slot_usage(pool, "ST-A", at_noon(2)),
    ) == (0, 1)


async def test_rescheduling_into_a_full_slot_is_409_and_moves_nothing(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), capacity_per_slot=1)
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 1))
    await booked(client, "P2", "ST-A", at_noon(2), ("S1", 1))
    response = await client.post(
        "/v1/pickups/P1/reschedule", json={"slot_start": at_noon(2).isoformat()}
    )
    assert_problem(response, 409, "slot_unavailable")
    assert instant((await ok(await client.get("/v1/pickups/P1")))["slot_start"]) == at_noon(1)
    assert (
        await slot_usage(pool, "ST-A", at_noon(1)),
        await slot_usage(pool, "ST-A", at_noon(2)),
    ) == (1, 1)


@pytest.mark.parametrize(
    ("slot_days", "minute", "status", "code"),
    [
        (-1, 0, 422, "slot_out_of_range"),
        (10, 0, 422, "slot_out_of_range"),
        (2, 10, 422, "slot_not_found"),
    ],
)
async def test_rescheduling_to_a_time_that_could_not_be_booked_is_refused(
    client: Client, pool: Pool, slot_days: int, minute: int, status: int, code: str
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), horizon_days=7)
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 1))
    response = await client.post(
        "/v1/pickups/P1/reschedule", json={"slot_start": at_noon(slot_days, minute).isoformat()}
    )
    assert_problem(response, status, code)
    assert await slot_usage(pool, "ST-A", at_noon(1)) == 1


async def test_a_cancelled_pickup_cannot_be_rescheduled(client: Client) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 1))
    await ok(await client.post("/v1/pickups/P1/cancel"))
    response = await client.post(
        "/v1/pickups/P1/reschedule", json={"slot_start": at_noon(2).isoformat()}
    )
    assert_problem(response, 409, "invalid_transition")


# ------------------------------------------------------------------ no-show


async def test_a_pickup_not_collected_within_the_hold_period_becomes_a_no_show_and_frees_its_stock(
    client: Client, db: Database, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), hold_hours=2)
    answer = await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    await booked(client, "P2", "ST-A", at_noon(3), ("S1", 1))
    await ready(client, "P1")
    hold_until = instant(answer["pickup"]["hold_until"])
    assert await mark_no_shows(db, 100, now=hold_until - timedelta(seconds=1)) == 0
    assert await mark_no_shows(db, 100, now=hold_until + timedelta(seconds=1)) == 1
    assert (await ok(await client.get("/v1/pickups/P1")))["status"] == "no_show"
    assert (await ok(await client.get("/v1/pickups/P2")))["status"] == "booked"
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 1)
    (reservation,) = await reservations_of(pool, "P1")
    assert reservation["status"] in ("expired", "cancelled")
    assert (await events(pool))[-1][0] == "pickup.no_show"
    assert await mark_no_shows(db, 100, now=hold_until + timedelta(seconds=2)) == 0
    assert await ledger_errors(pool) == []


async def test_a_pickup_the_store_never_made_ready_is_cancelled_not_a_no_show(
    client: Client, db: Database, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), hold_hours=2)
    answer = await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    hold_until = instant(answer["pickup"]["hold_until"])
    assert await mark_no_shows(db, 100, now=hold_until + timedelta(seconds=1)) == 1
    assert (await ok(await client.get("/v1/pickups/P1")))["status"] == "cancelled"
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 0)
    assert (await events(pool))[-1][0] == "pickup.cancelled"
    assert await ledger_errors(pool) == []


# ------------------------------------------------------------------ counter returns


async def test_a_sellable_return_at_the_counter_goes_back_into_stock(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    body = {"sku": "S1", "quantity": 2, "condition": "sellable", "reference": "RECEIPT-9"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await ok(await client.post("/v1/locations/ST-A/returns", json=body, headers=key))
    again = await ok(await client.post("/v1/locations/ST-A/returns", json=body, headers=key))
    assert again == first
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (7, 0)
    assert (await movements_about(pool, "ST-A", "S1"))[1:] == [("return", 2, 0)]


async def test_a_damaged_return_is_recorded_and_written_off_leaving_on_hand_unchanged(
    client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    body = {"sku": "S1", "quantity": 2, "condition": "damaged"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    await ok(await client.post("/v1/locations/ST-A/returns", json=body, headers=key))
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 0)
    assert (await movements_about(pool, "ST-A", "S1"))[1:] == [
        ("return", 2, 0),
        ("write_off", -2, 0),
    ]
    assert await ledger_errors(pool) == []
