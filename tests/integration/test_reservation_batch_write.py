"""One flush of the reservation engine writes every row of its batch in one statement
(service/storage/reservation_batch.sql). These tests put every kind of step into a
single batch and check each table against what the steps, one at a time, would leave.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from service.contracts.reservations import CreateReservation, ReservationLineIn
from service.domain.ledger import Delta
from service.domain.reservations import Line, OutcomeKind, ReservationState
from service.runtime import Runtime
from service.storage.database import Database
from service.storage.outbox import OutgoingMessage
from service.storage.pool import Pool
from service.storage.reservation_batch import BatchWrite, ReservationBatchRepository
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


T0 = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def reservation(reservation_id: str, status: str, *lines: Line) -> ReservationState:
    return ReservationState(
        reservation_id=reservation_id,
        location_id="ST-A",
        status=status,
        channel=f"channel-of-{reservation_id}",
        external_ref=f"ref-of-{reservation_id}",
        fingerprint=f"fp-of-{reservation_id}",
        expires_at=T0 + timedelta(hours=1),
        created_at=T0,
        updated_at=T0,
        lines=lines,
    )


async def write(db: Database, batch: BatchWrite) -> None:
    await db.run(lambda conn: ReservationBatchRepository(conn).write_batch(batch))


async def test_every_value_of_a_batch_lands_in_its_own_column(
    clean: None, db: Database, pool: Pool
) -> None:
    """Each value differs from its neighbours, so two columns swapped anywhere in the
    write (or a section read by another's placeholders) fail here."""
    await pool.execute(
        "INSERT INTO locations (location_id, kind, name, latitude, longitude, timezone)"
        " VALUES ('ST-A', 'store', 'A', 1, 2, 'UTC');"
        "INSERT INTO balances (location_id, sku, on_hand) VALUES ('ST-A', 'RED', 100);"
        "INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES ('amqp', 'k-1', 'f')"
    )
    await write(db, BatchWrite(T0, created=[reservation("u-1", "active", Line("RED", 7))]))
    heard: set[tuple[str, str]] = set()
    expected = {("inventory_outbox", ""), ("inventory_balances", "RED")}
    all_heard = asyncio.Event()

    def hear(_conn: object, _pid: int, channel: str, payload: object) -> None:
        heard.add((channel, str(payload)))
        if expected <= heard:
            all_heard.set()

    at = T0 + timedelta(minutes=5)
    async with pool.acquire() as listener:
        for channel in ("inventory_outbox", "inventory_balances"):
            await listener.add_listener(channel, hear)
        try:
            await write(
                db,
                BatchWrite(
                    occurred_at=at,
                    created=[reservation("c-1", "active", Line("RED", 4, 1))],
                    updated=[reservation("u-1", "fulfilled", Line("RED", 7, 6))],
                    deltas=[Delta("ST-A", "RED", "adjustment", 2, 3, 5, "the-ref", "the-reason")],
                    actors=["the-actor"],
                    messages=[OutgoingMessage("the-exchange", "the-key", b"payload", "mid", "cid")],
                    answer_scope="amqp",
                    answers={"k-1": (207, {"said": "so"})},
                ),
            )
            await asyncio.wait_for(all_heard.wait(), 10)
        finally:
            for channel in ("inventory_outbox", "inventory_balances"):
                await listener.remove_listener(channel, hear)

    created = await pool.fetchrow("SELECT * FROM reservations WHERE reservation_id = 'c-1'")
    assert dict(created) == {
        "location_id": "ST-A",
        "reservation_id": "c-1",
        "status": "active",
        "channel": "channel-of-c-1",
        "external_ref": "ref-of-c-1",
        "fingerprint": "fp-of-c-1",
        "expires_at": T0 + timedelta(hours=1),
        "created_at": at,
        "updated_at": at,
    }
    updated = await pool.fetchrow("SELECT * FROM reservations WHERE reservation_id = 'u-1'")
    assert (updated["status"], updated["created_at"], updated["updated_at"]) == (
        "fulfilled",
        T0,
        at,
    )
    lines = await pool.fetch("SELECT * FROM reservation_lines ORDER BY reservation_id")
    assert [dict(r) for r in lines] == [
        {
            "location_id": "ST-A",
            "reservation_id": "c-1",
            "sku": "RED",
            "quantity": 4,
            "fulfilled": 1,
        },
        {
            "location_id": "ST-A",
            "reservation_id": "u-1",
            "sku": "RED",
            "quantity": 7,
            "fulfilled": 6,
        },
    ]
    movement = await pool.fetchrow(
        "SELECT location_id, sku, kind, on_hand_delta, reserved_delta, incoming_delta, reference,"
        " reason, idempotency_key, actor, occurred_at FROM movements"
    )
    assert tuple(movement) == (
        "ST-A", "RED", "adjustment", 2, 3, 5, "the-ref", "the-reason", None, "the-actor", at
    )  # fmt: skip
    balance = await pool.fetchrow("SELECT on_hand, reserved, incoming FROM balances")
    assert tuple(balance) == (102, 3, 5)
    assert await pool.fetch("SELECT location_id, sku FROM availability_changes") == [
        ("ST-A", "RED")
    ]
    message = await pool.fetchrow(
        "SELECT exchange, routing_key, message_id, correlation_id, payload FROM outbox"
    )
    assert tuple(message) == ("the-exchange", "the-key", "mid", "cid", b"payload")
    answer = await pool.fetchrow("SELECT status_code, response FROM idempotency_keys")
    assert tuple(answer) == (207, {"said": "so"})
