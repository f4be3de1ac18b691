"""Reservations over HTTP: the lifecycle, idempotency, refusals, and the ledger
rows each transition writes (issue 3)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import structlog

from service.contracts.reservations import CreateReservation, ReservationLineIn
from service.domain.reservations import OutcomeKind
from service.runtime import Runtime
from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases import reservations
from service.usecases.reservation_engine import ReservationEngine
from tests.helpers import assert_problem
from tests.reservation_helpers import (
    Figures,
    count_rows,
    create_body,
    figures,
    given_stock,
    ledger_errors,
    movements_of,
    reserve,
)

Client = httpx.AsyncClient


@pytest.fixture
async def store(client: Client, db: Database) -> str:
    """ST-A holding 10 of S1 and 5 of S2, on an empty database."""
    await given_stock(db, "ST-A", ("S1", 10), ("S2", 5))
    return "ST-A"


async def created(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    response = await reserve(client, body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def reservation_tables(pool: Pool) -> tuple[int, int, int, int]:
    """Rows in balances-with-reservations, movements, reservations and their lines."""
    return (
        await count_rows(pool, "balances", "reserved <> 0"),
        await count_rows(pool, "movements"),
        await count_rows(pool, "reservations"),
        await count_rows(pool, "reservation_lines"),
    )


# ------------------------------------------------------------------ lifecycle


async def test_a_created_reservation_is_answered_201_and_reads_back_the_same(
    client: Client, store: str, pool: Pool
) -> None:
    body = create_body("r-1", store, ("S1", 3), channel="app", external_ref="ord-7")

    answer = await created(client, body)

    assert answer["reservation_id"] == "r-1"
    assert answer["location_id"] == store
    assert answer["status"] == "active"
    assert answer["channel"] == "app"
    assert answer["external_ref"] == "ord-7"
    assert answer["lines"] == [{"sku": "S1", "quantity": 3, "fulfilled": 0}]
    read = await client.get("/v1/reservations/r-1")
    assert read.status_code == 200
    assert read.json() == answer
    assert await figures(pool, store, "S1") == Figures(on_hand=10, reserved=3, safety_stock=0)
    assert await movements_of(pool, "r-1") == [("reserve", "S1", 0, 3)]
    assert await ledger_errors(pool) == []


async def test_a_reservation_without_ttl_expires_after_the_default_ttl(
    client: Client, store: str, runtime: Runtime
) -> None:
    answer = await created(client, create_body("r-1", store, ("S1", 1)))

    lasts = datetime.fromisoformat(answer["expires_at"]) - datetime.fromisoformat(
        answer["created_at"]
    )
    assert lasts == timedelta(seconds=runtime.settings.reservation_default_ttl_s)


async def test_fulfilling_a_whole_reservation_takes_its_units_off_hand_and_off_reserved(
    client: Client, store: str, pool: Pool
) -> None:
    await created(client, create_body("r-1", store, ("S1", 3), ("S2", 2)))

    response = await client.post("/v1/reservations/r-1/fulfil")

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "fulfilled"
    assert answer["lines"] == [
        {"sku": "S1", "quantity": 3, "fulfilled": 3},
        {"sku": "S2", "quantity": 2, "fulfilled": 2},
    ]
    assert (await client.get("/v1/reservations/r-1")).json() == answer
    s1, s2 = await figures(pool, store, "S1"), await figures(pool, store, "S2")
    assert (s1.on_hand, s1.reserved, s2.on_hand, s2.reserved) == (7, 0, 3, 0)
    assert sorted(await movements_of(pool, "r-1")) == [
        ("fulfil", "S1", -3, -3),
        ("fulfil", "S2", -2, -2),
        ("reserve", "S1", 0, 3),
        ("reserve", "S2", 0, 2),
    ]
    assert await ledger_errors(pool) == []


async def test_a_partial_fulfilment_releases_the_units_not_handed_over(
    client: Client, store: str, pool: Pool
) -> None:
    await created(client, create_body("r-1", store, ("S1", 4), ("S2", 2)))

    response = await client.post(
        "/v1/reservations/r-1/fulfil", json={"lines": [{"sku": "S1", "quantity": 1}]}
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "fulfilled"
    assert answer["lines"] == [
        {"sku": "S1", "quantity": 4, "fulfilled": 1},
        {"sku": "S2", "quantity": 2, "fulfilled": 0},
    ]
    assert (await client.get("/v1/reservations/r-1")).json() == answer
    s1, s2 = await figures(pool, store, "S1"), await figures(pool, store, "S2")
    assert (s1.on_hand, s1.reserved, s2.on_hand, s2.reserved) == (9, 0, 5, 0)
    assert sorted(await movements_of(pool, "r-1")) == [
        ("fulfil", "S1", -1, -1),
        ("release", "S1", 0, -3),
        ("release", "S2", 0, -2),
        ("reserve", "S1", 0, 4),
        ("reserve", "S2", 0, 2),
    ]
    assert await ledger_errors(pool) == []


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([{"sku": "S9", "quantity": 1}], "lines[0].sku"),
        ([{"sku": "S1", "quantity": 5}], "lines[0].quantity"),
        ([{"sku": "S1", "quantity": 1}, {"sku": "S1", "quantity": 1}], "lines[1].sku"),
    ],
    ids=["sku-not-reserved", "more-than-reserved", "sku-twice"],
)
async def test_a_fulfilment_naming_what_was_not_reserved_is_refused_and_moves_nothing(
    client: Client, store: str, pool: Pool, lines: list[dict[str, Any]], field: str
) -> None:
    await created(client, create_body("r-1", store, ("S1", 4)))
    before = await reservation_tables(pool)

    response = await client.post("/v1/reservations/r-1/fulfil", json={"lines": lines})

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert await reservation_tables(pool) == before
    assert (await client.get("/v1/reservations/r-1")).json()["status"] == "active"


async def test_cancelling_releases_the_units_and_cancelling_again_answers_the_same(
    client: Client, store: str, pool: Pool
) -> None:
    await created(client, create_body("r-1", store, ("S1", 3), ("S2", 1)))

    first = await client.post("/v1/reservations/r-1/cancel", json={"reason": "changed mind"})
    second = await client.post("/v1/reservations/r-1/cancel")

    assert first.status_code == 200, first.text
    assert first.json()["status"] == "cancelled"
    assert second.status_code == 200, second.text
    assert second.json() == first.json()
    assert (await figures(pool, store, "S1")).reserved == 0
    assert (await figures(pool, store, "S2")).reserved == 0
    assert sorted(await movements_of(pool, "r-1")) == [
        ("release", "S1", 0, -3),
        ("release", "S2", 0, -1),
        ("reserve", "S1", 0, 3),
        ("reserve", "S2", 0, 1),
    ]
    assert await ledger_errors(pool) == []


async def test_fulfilling_twice_answers_the_same_and_takes_the_goods_once(
    client: Client, store: str, pool: Pool
) -> None:
    await created(client, create_body("r-1", store, ("S1", 3)))

    first = await client.post("/v1/reservations/r-1/fulfil")
    second = await client.post("/v1/reservations/r-1/fulfil")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == first.json()
    assert (await figures(pool, store, "S1")).on_hand == 7
    assert len(await movements_of(pool, "r-1")) == 2


@pytest.mark.parametrize(
    ("done", "then"),
    [("cancel", "fulfil"), ("fulfil", "cancel")],
)
async def test_a_step_from_a_final_state_is_an_invalid_transition_and_moves_nothing(
    client: Client, store: str, pool: Pool, done: str, then: str
) -> None:
    await created(client, create_body("r-1", store, ("S1", 3)))
    final = await client.post(f"/v1/reservations/r-1/{done}")
    assert final.status_code == 200, final.text
    before = await reservation_tables(pool), await figures(pool, store, "S1")

    response = await client.post(f"/v1/reservations/r-1/{then}")

    assert_problem(response, 409, "invalid_transition")
    assert (await reservation_tables(pool), await figures(pool, store, "S1")) == before
    assert (await client.get("/v1/reservations/r-1")).json() == final.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("POST", "/cancel"), ("POST", "/fulfil")],
)
async def test_an_unknown_reservation_is_not_found(
    client: Client, store: str, method: str, path: str
) -> None:
    response = await client.request(method, f"/v1/reservations/r-nobody{path}")

    assert_problem(response, 404, "reservation_not_found")


# ------------------------------------------------------------------ idempotency


async def test_the_same_create_again_answers_200_with_the_same_body_and_reserves_nothing_more(
    client: Client, store: str, pool: Pool
) -> None:
    body = create_body("r-1", store, ("S1", 2), ("S2", 1), ttl_seconds=600)
    first = await created(client, body)

    again = await reserve(client, body)
    reordered = await reserve(client, {**body, "lines": list(reversed(body["lines"]))})

    assert again.status_code == 200, again.text
    assert again.json() == first
    assert reordered.status_code == 200, reordered.text
    assert reordered.json() == first
    assert (await figures(pool, store, "S1")).reserved == 2
    assert len(await movements_of(pool, "r-1")) == 2
    assert await count_rows(pool, "reservations") == 1


async def test_the_created_answer_lists_the_lines_as_every_later_answer_does(
    client: Client, store: str
) -> None:
    body = create_body("r-1", store, ("S2", 1), ("S1", 2))

    first = await created(client, body)
    again = await reserve(client, body)
    read = await client.get("/v1/reservations/r-1")

    assert again.json() == first
    assert read.json() == first


async def test_the_same_create_sent_many_times_at_once_is_created_once(
    client: Client, store: str, pool: Pool
) -> None:
    body = create_body("r-1", store, ("S1", 2))

    answers = await asyncio.gather(*(reserve(client, body) for _ in range(10)))

    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 9 + [201], [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert (await figures(pool, store, "S1")).reserved == 2
    assert await movements_of(pool, "r-1") == [("reserve", "S1", 0, 2)]


@pytest.mark.parametrize(
    "change",
    [
        {"lines": [{"sku": "S1", "quantity": 3}]},
        {"lines": [{"sku": "S2", "quantity": 2}]},
        {"location_id": "ST-B"},
        {"channel": "app"},
        {"external_ref": "ord-other"},
        {"ttl_seconds": 60},
    ],
    ids=["quantity", "sku", "location", "channel", "external-ref", "ttl"],
)
async def test_the_same_id_with_other_content_is_a_conflict_and_reserves_nothing_more(
    client: Client, store: str, pool: Pool, db: Database, change: dict[str, Any]
) -> None:
    await given_stock(db, "ST-B", ("S1", 10))
    body = create_body("r-1", store, ("S1", 2))
    first = await created(client, body)
    before = await reservation_tables(pool)

    response = await reserve(client, {**body, **change})

    assert_problem(response, 409, "reservation_conflict")
    assert await reservation_tables(pool) == before
    assert (await client.get("/v1/reservations/r-1")).json() == first


# ------------------------------------------------------------------ refusals


async def test_a_reservation_short_on_one_line_reserves_nothing_on_any_line(
    client: Client, store: str, pool: Pool
) -> None:
    await created(client, create_body("r-0", store, ("S2", 4)))
    before = await reservation_tables(pool)

    response = await reserve(client, create_body("r-1", store, ("S1", 2), ("S2", 3)))

    body = assert_problem(response, 409, "insufficient_stock")
    assert body["short_lines"] == [{"sku": "S2", "requested": 3, "available": 1}]
    assert await reservation_tables(pool) == before
    assert (await figures(pool, store, "S1")).reserved == 0
    assert await movements_of(pool, "r-1") == []
    assert (await client.get("/v1/reservations/r-1")).status_code == 404


async def test_every_short_line_is_named_and_a_sku_never_stocked_has_nothing_available(
    client: Client, store: str
) -> None:
    response = await reserve(client, create_body("r-1", store, ("S1", 11), ("S2", 5), ("NEVER", 1)))

    body = assert_problem(response, 409, "insufficient_stock")
    assert sorted(body["short_lines"], key=lambda x: x["sku"]) == [
        {"sku": "NEVER", "requested": 1, "available": 0},
        {"sku": "S1", "requested": 11, "available": 10},
    ]


async def test_a_reservation_at_an_unknown_location_is_refused_and_writes_nothing(
    client: Client, store: str, pool: Pool
) -> None:
    response = await reserve(client, create_body("r-1", "ST-NOWHERE", ("S1", 1)))

    assert_problem(response, 422, "unknown_location", field="location_id")
    assert await count_rows(pool, "reservations") == 0


async def test_a_sku_twice_in_one_reservation_is_invalid_input(
    client: Client, store: str, pool: Pool
) -> None:
    response = await reserve(client, create_body("r-1", store, ("S1", 1), ("S1", 2)))

    assert_problem(response, 422, "invalid_input", field="lines[1].sku")
    assert await count_rows(pool, "reservations") == 0


async def test_a_ttl_over_the_maximum_is_refused_and_the_maximum_itself_is_accepted(
    client: Client, store: str, runtime: Runtime
) -> None:
    longest = runtime.settings.reservation_max_ttl_s

    over = await reserve(client, create_body("r-1", store, ("S1", 1), ttl_seconds=longest + 1))
    at = await reserve(client, create_body("r-2", store, ("S1", 1), ttl_seconds=longest))

    assert_problem(over, 422, "invalid_input", field="ttl_seconds")
    assert at.status_code == 201, at.text


@pytest.mark.parametrize(
    "body",
    [
        create_body("r-1", "ST-A", ("S1", 0)),
        create_body("r-1", "ST-A"),
        {"reservation_id": "r-1", "lines": [{"sku": "S1", "quantity": 1}]},
        {**create_body("r-1", "ST-A", ("S1", 1)), "ttl_seconds": 0},
    ],
    ids=["quantity-0", "no-lines", "no-location", "ttl-0"],
)
async def test_a_malformed_reservation_is_refused_before_anything_is_decided(
    client: Client, store: str, pool: Pool, body: dict[str, Any]
) -> None:
    response = await reserve(client, body)

    assert_problem(response, 422, "invalid_body")
    assert await count_rows(pool, "reservations") == 0


# ------------------------------------------------------------------ safety stock


async def test_the_location_safety_stock_is_never_reserved(
    client: Client, db: Database, pool: Pool
) -> None:
    await given_stock(db, "ST-S", ("S1", 10), default_safety_stock=2)

    too_many = await reserve(client, create_body("r-1", "ST-S", ("S1", 9)))
    all_there_is = await reserve(client, create_body("r-2", "ST-S", ("S1", 8)))
    one_more = await reserve(client, create_body("r-3", "ST-S", ("S1", 1)))

    body = assert_problem(too_many, 409, "insufficient_stock")
    assert body["short_lines"] == [{"sku": "S1", "requested": 9, "available": 8}]
    assert all_there_is.status_code == 201, all_there_is.text
    body = assert_problem(one_more, 409, "insufficient_stock")
    assert body["short_lines"] == [{"sku": "S1", "requested": 1, "available": 0}]
    assert await figures(pool, "ST-S", "S1") == Figures(on_hand=10, reserved=8, safety_stock=2)


async def test_a_balance_safety_stock_overrides_the_location_default(
    client: Client, db: Database
) -> None:
    await given_stock(db, "ST-S", ("S1", 10), default_safety_stock=2)
    put = await client.put("/v1/stock/S1/locations/ST-S/safety-stock", json={"safety_stock": 6})
    assert put.status_code == 200, put.text

    too_many = await reserve(client, create_body("r-1", "ST-S", ("S1", 5)))
    enough = await reserve(client, create_body("r-2", "ST-S", ("S1", 4)))

    body = assert_problem(too_many, 409, "insufficient_stock")
    assert body["short_lines"] == [{"sku": "S1", "requested": 5, "available": 4}]
    assert enough.status_code == 201, enough.text


# ------------------------------------------------------------------ one batch


async def test_a_reservation_created_and_fulfilled_in_one_batch_keeps_what_was_handed_over(
    client: Client, store: str, runtime: Runtime, pool: Pool
) -> None:
    """Both steps are queued before the engine runs, so they are decided in one flush."""
    command = CreateReservation(
        reservation_id="r-1", location_id=store, lines=[ReservationLineIn("S1", 3)]
    )

    made, taken = await asyncio.gather(
        reservations.create_reservation(runtime.engine, runtime.settings, command, "test"),
        reservations.fulfil_reservation(
            runtime.engine, "r-1", [ReservationLineIn("S1", 2)], "test"
        ),
    )

    assert (made.kind, taken.kind) == (OutcomeKind.CREATED, OutcomeKind.DONE)
    read = (await client.get("/v1/reservations/r-1")).json()
    assert read["status"] == "fulfilled"
    assert read["lines"] == [{"sku": "S1", "quantity": 3, "fulfilled": 2}]
    assert (await figures(pool, store, "S1")).on_hand == 8
    assert await ledger_errors(pool) == []


async def test_the_ledger_stays_equal_to_its_movements_through_every_kind_of_transition(
    client: Client, store: str, pool: Pool
) -> None:
    for i in range(5):
        await created(client, create_body(f"r-{i}", store, ("S1", 1), ("S2", 1)))
    steps = [
        ("/v1/reservations/r-0/fulfil", None, 200),
        ("/v1/reservations/r-1/fulfil", {"lines": [{"sku": "S2", "quantity": 1}]}, 200),
        ("/v1/reservations/r-2/cancel", None, 200),
        ("/v1/reservations/r-2/fulfil", None, 409),
        ("/v1/reservations", create_body("r-5", store, ("S1", 3)), 201),
        ("/v1/reservations", create_body("r-6", store, ("S2", 9)), 409),
    ]

    for path, body, status in steps:
        response = await client.post(path, json=body)
        assert response.status_code == status, (path, response.text)
        assert await ledger_errors(pool) == [], path

    s1, s2 = await figures(pool, store, "S1"), await figures(pool, store, "S2")
    assert (s1.on_hand, s1.reserved) == (9, 2 + 3)
    assert (s2.on_hand, s2.reserved) == (3, 2)


# ------------------------------------------------------------------ logs


async def test_an_engine_failure_is_logged_with_the_request_that_failed_not_the_one_before(
    client: Client,
    store: str,
    db: Database,
    pool: Pool,
    runtime: Runtime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The first request starts a fresh engine; a later one fails in it (the books were
    made to drift, so releasing would take reserved below zero): the failure's log line
    must carry the later request's id."""
    engine = ReservationEngine(db)
    command = CreateReservation(
        reservation_id="r-1", location_id=store, lines=[ReservationLineIn("S1", 3)]
    )
    try:
        with structlog.contextvars.bound_contextvars(request_id="req-starter"):
            made = await reservations.create_reservation(engine, runtime.settings, command, "t")
        assert made.kind is OutcomeKind.CREATED
        await pool.execute("UPDATE balances SET reserved = 0 WHERE sku = 'S1'")
        with (
            structlog.contextvars.bound_contextvars(request_id="req-culprit"),
            pytest.raises(asyncpg.CheckViolationError),
        ):
            await reservations.cancel_reservation(engine, "r-1", None, "t")
    finally:
        await engine.stop()

    failed = [
        r.msg
        for r in caplog.records
        if isinstance(r.msg, dict) and r.msg.get("event") == "reservation_request_failed"
    ]
    assert [f.get("request_id") for f in failed] == ["req-culprit"]
