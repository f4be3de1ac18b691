"""One flush of the reservation engine writes every row of its batch in one statement
(service/storage/reservation_batch.sql). These tests put every kind of step into a
single batch and check each table against what the steps, one at a time, would leave.
"""

from __future__ import annotations

from datetime import timedelta

import httpx

from service.contracts.reservations import CreateReservation, ReservationLineIn
from service.domain.reservations import Line, OutcomeKind
from service.runtime import Runtime
from service.storage.pool import Pool
from service.usecases.reservation_engine import decide_in_transaction
from service.usecases.reservation_steps import Cancel, Create, Expire, Fulfil, Origin
from service.usecases.reservations import new_reservation
from service.usecases.verify import verify_ledger
from tests.integration.test_reservations_smoke import stock

WEBSHOP = Origin(actor="test")


def create(reservation_id: str, *lines: tuple[str, int], at: str = "ST-A") -> Create:
    command = CreateReservation(
        reservation_id=reservation_id,
        location_id=at,
        lines=[ReservationLineIn(sku=sku, quantity=quantity) for sku, quantity in lines],
    )
    return Create(new_reservation(command), timedelta(minutes=30))


def by_message(key: str) -> Origin:
    return Origin(actor="amqp", message_id=key, fingerprint=f"fp-{key}", reply_to="replies")


async def test_one_batch_of_every_step_leaves_each_table_as_single_steps_would(
    client: httpx.AsyncClient, runtime: Runtime, pool: Pool
) -> None:
    await stock(client, "ST-A", "RED", 10)
    await stock(client, "ST-A", "BLUE", 10)
    before = [
        (create("held", ("RED", 3), ("BLUE", 2)), WEBSHOP),
        (create("doomed", ("RED", 1)), WEBSHOP),
    ]
    await runtime.db.run(lambda conn: decide_in_transaction(conn, before))

    batch = [
        (create("two-lines", ("RED", 2), ("BLUE", 5)), WEBSHOP),  # created
        (create("born-and-gone", ("BLUE", 1)), WEBSHOP),  # created, then cancelled below
        (Cancel("born-and-gone", "changed mind"), WEBSHOP),
        (Fulfil("held", (Line("RED", 2),)), WEBSHOP),  # partial
        (Cancel("doomed"), WEBSHOP),
        (create("too-many", ("RED", 50)), WEBSHOP),  # refused: nothing written for it
        (Expire("held"), WEBSHOP),  # not due: no change
        (create("by-message", ("RED", 1)), by_message("m-1")),
        (create("by-message", ("RED", 1)), by_message("m-1")),  # the same message again
    ]
    outcomes = await runtime.db.run(lambda conn: decide_in_transaction(conn, batch))

    assert [(o.kind, o.code) for o in outcomes] == [
        (OutcomeKind.CREATED, "ok"),  # two-lines
        (OutcomeKind.CREATED, "ok"),  # born-and-gone
        (OutcomeKind.DONE, "ok"),  # its cancel
        (OutcomeKind.DONE, "ok"),  # held, fulfilled in part
        (OutcomeKind.DONE, "ok"),  # doomed, cancelled
        (OutcomeKind.CONFLICT, "insufficient_stock"),
        (OutcomeKind.NOT_DUE, "not_due"),
        (OutcomeKind.CREATED, "ok"),  # by-message
        (OutcomeKind.CREATED, "duplicate"),  # the same message again, answered as the first
    ]
    statuses = dict(await pool.fetch("SELECT reservation_id, status FROM reservations"))
    assert statuses == {
        "held": "fulfilled",
        "doomed": "cancelled",
        "two-lines": "active",
        "born-and-gone": "cancelled",
        "by-message": "active",
    }
    lines = {
        (r["reservation_id"], r["sku"]): (r["quantity"], r["fulfilled"])
        for r in await pool.fetch(
            "SELECT reservation_id, sku, quantity, fulfilled FROM reservation_lines"
        )
    }
    assert lines[("held", "RED")] == (3, 2)
    assert lines[("held", "BLUE")] == (2, 0)
    assert lines[("two-lines", "BLUE")] == (5, 0)
    assert ("too-many", "RED") not in lines

    balances = {
        r["sku"]: (r["on_hand"], r["reserved"])
        for r in await pool.fetch("SELECT sku, on_hand, reserved FROM balances")
    }
    # RED: 10 received, 2 sold by the fulfilment; reserved: two-lines 2 + by-message 1.
    # BLUE: nothing sold; reserved: two-lines 5 (held's BLUE line was released).
    assert balances == {"RED": (8, 3), "BLUE": (10, 5)}
    assert await verify_ledger(runtime.db) == []

    answer = await pool.fetchrow(
        "SELECT status_code, response FROM idempotency_keys WHERE key = 'm-1'"
    )
    assert answer["status_code"] == 201
    assert answer["response"]["routing_key"] == "reservation.confirmed"
    replies = await pool.fetchval("SELECT count(*) FROM outbox WHERE routing_key = 'replies'")
    assert replies == 2  # the message and its duplicate are both answered
    stamps = await pool.fetchrow(
        "SELECT count(DISTINCT updated_at) AS updated, min(created_at) AS first_created,"
        " max(updated_at) AS last_updated FROM reservations"
    )
    # Updated (held, doomed) and created rows all carry the second flush's one clock
    # reading, later than the first flush's.
    assert stamps["updated"] == 1
    assert stamps["last_updated"] > stamps["first_created"]


async def test_a_batch_names_each_changed_sku_to_the_availability_cache(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await stock(client, "ST-A", "RED", 5)
    await stock(client, "ST-A", "BLUE", 5)
    await client.get("/v1/availability/RED/locations/ST-A")  # cached now
    before = (await client.get("/v1/availability/BLUE/locations/ST-A")).json()

    batch = [(create("one", ("RED", 2)), WEBSHOP), (create("two", ("RED", 1)), WEBSHOP)]
    await runtime.db.run(lambda conn: decide_in_transaction(conn, batch))

    red = (await client.get("/v1/availability/RED/locations/ST-A")).json()
    assert (red["reserved"], red["available"]) == (3, 2)
    assert (await client.get("/v1/availability/BLUE/locations/ST-A")).json() == before


async def test_a_store_closed_with_stock_on_its_shelves_refuses_new_reservations(
    client: httpx.AsyncClient, runtime: Runtime, pool: Pool
) -> None:
    await stock(client, "ST-A", "RED", 5)
    await stock(client, "ST-B", "RED", 5)
    await pool.execute("UPDATE locations SET active = false WHERE location_id = 'ST-A'")
    batch = [
        (create("at-a", ("RED", 1)), WEBSHOP),
        (create("at-b", ("RED", 1), at="ST-B"), WEBSHOP),
    ]

    outcomes = await runtime.db.run(lambda conn: decide_in_transaction(conn, batch))

    assert [(o.kind, o.code) for o in outcomes] == [
        (OutcomeKind.INVALID, "inactive_location"),
        (OutcomeKind.CREATED, "ok"),
    ]
    assert await pool.fetchval("SELECT sum(reserved) FROM balances") == 1


async def test_a_batch_of_creates_alone_sees_the_reservations_that_already_exist(
    client: httpx.AsyncClient, runtime: Runtime, pool: Pool
) -> None:
    # A batch of creates alone locks reservations and balances in one statement
    # (lock_for_creates); a repeated id must still be found with its lines.
    await stock(client, "ST-A", "RED", 10)
    await stock(client, "ST-B", "RED", 10)
    first = [(create("kept", ("RED", 3)), WEBSHOP)]
    await runtime.db.run(lambda conn: decide_in_transaction(conn, first))

    batch = [
        (create("kept", ("RED", 3)), WEBSHOP),  # the same create again: its first answer
        (create("kept", ("RED", 4)), WEBSHOP),  # the same id, other content
        (create("new", ("RED", 2)), WEBSHOP),
        (create("elsewhere", ("RED", 1), at="ST-B"), WEBSHOP),
        (create("nowhere", ("RED", 1), at="ST-NONE"), WEBSHOP),
    ]
    outcomes = await runtime.db.run(lambda conn: decide_in_transaction(conn, batch))

    assert [(o.kind, o.code) for o in outcomes] == [
        (OutcomeKind.DONE, "ok"),
        (OutcomeKind.CONFLICT, "reservation_conflict"),
        (OutcomeKind.CREATED, "ok"),
        (OutcomeKind.CREATED, "ok"),
        (OutcomeKind.INVALID, "unknown_location"),
    ]
    reserved = dict(await pool.fetch("SELECT location_id, reserved FROM balances"))
    assert reserved == {"ST-A": 5, "ST-B": 1}
    assert await verify_ledger(runtime.db) == []
