"""The flush's decisions, fast: each test runs one flush (service/usecases/
reservation_flush.py) on a real connection, inside a transaction rolled back at the
end, against rows it inserts itself under location ids of its own."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from service.domain.reservations import Line, NewReservation, Outcome, OutcomeKind
from service.storage.pool import Connection, Pool
from service.usecases.reservation_flush import Flush
from service.usecases.reservation_steps import (
    Cancel,
    Create,
    Expire,
    Fulfil,
    Origin,
    Pending,
    Step,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
WEB = Origin(actor="test")


@pytest.fixture
async def conn(pool: Pool) -> AsyncIterator[Connection]:
    async with pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
async def store(conn: Connection) -> str:
    """A store of this test's own with 5 of S1 and 2 of S2 (safety stock 1 on S2)."""
    location_id = f"FL-{secrets.token_hex(4).upper()}"
    await conn.execute(
        "INSERT INTO locations (location_id, kind, name, latitude, longitude, timezone)"
        " VALUES ($1, 'store', 'Flush test', 59.9, 10.7, 'Europe/Oslo')",
        location_id,
    )
    await conn.execute(
        "INSERT INTO balances (location_id, sku, on_hand, safety_stock)"
        " VALUES ($1, 'S1', 5, NULL), ($1, 'S2', 2, 1)",
        location_id,
    )
    return location_id


def create(rid: str, at: str, *lines: tuple[str, int], fingerprint: str = "") -> Create:
    request = NewReservation(
        reservation_id=rid,
        location_id=at,
        lines=tuple(Line(sku, quantity) for sku, quantity in lines),
        channel="webshop",
        external_ref=None,
        fingerprint=fingerprint or f"fp-{rid}-{lines}",
    )
    return Create(request, timedelta(minutes=15))


def message(message_id: str, fingerprint: str) -> Origin:
    return Origin(actor="amqp", message_id=message_id, fingerprint=fingerprint, reply_to="r")


async def flush(
    conn: Connection, *steps: Step | tuple[Step, Origin], at: datetime = NOW
) -> list[Outcome]:
    batch = [Pending(*s) if isinstance(s, tuple) else Pending(s, WEB) for s in steps]
    return await Flush(conn, batch, at).run()


def kinds(outcomes: list[Outcome]) -> list[tuple[OutcomeKind, str]]:
    return [(o.kind, o.code) for o in outcomes]


async def test_requests_in_one_batch_draw_on_the_stock_in_arrival_order(
    conn: Connection, store: str
) -> None:
    outcomes = await flush(
        conn,
        create("a", store, ("S1", 3)),
        create("b", store, ("S1", 3)),
        create("c", store, ("S1", 2)),
    )
    assert kinds(outcomes) == [
        (OutcomeKind.CREATED, "ok"),
        (OutcomeKind.CONFLICT, "insufficient_stock"),
        (OutcomeKind.CREATED, "ok"),
    ]
    [short] = outcomes[1].shortfalls
    assert (short.sku, short.requested, short.available) == ("S1", 3, 2)
    assert (
        await conn.fetchval(
            "SELECT reserved FROM balances WHERE location_id = $1 AND sku = 'S1'", store
        )
        == 5
    )


async def test_safety_stock_is_never_promised(conn: Connection, store: str) -> None:
    outcomes = await flush(conn, create("a", store, ("S2", 2)), create("b", store, ("S2", 1)))
    assert kinds(outcomes) == [
        (OutcomeKind.CONFLICT, "insufficient_stock"),
        (OutcomeKind.CREATED, "ok"),
    ]


async def test_a_line_short_refuses_the_whole_reservation(conn: Connection, store: str) -> None:
    [outcome] = await flush(conn, create("a", store, ("S1", 1), ("S2", 5)))
    assert outcome.kind is OutcomeKind.CONFLICT
    assert [s.sku for s in outcome.shortfalls] == ["S2"]
    assert (
        await conn.fetchval("SELECT count(*) FROM reservations WHERE location_id = $1", store) == 0
    )


async def test_a_cancel_in_the_same_batch_gives_the_units_back_to_later_creates(
    conn: Connection, store: str
) -> None:
    outcomes = await flush(
        conn,
        create("a", store, ("S1", 5)),
        Cancel("a", "changed mind"),
        create("b", store, ("S1", 5)),
    )
    assert kinds(outcomes) == [
        (OutcomeKind.CREATED, "ok"),
        (OutcomeKind.DONE, "ok"),
        (OutcomeKind.CREATED, "ok"),
    ]
    statuses = dict(
        await conn.fetch(
            "SELECT reservation_id, status FROM reservations WHERE location_id = $1", store
        )
    )
    assert statuses == {"a": "cancelled", "b": "active"}


async def test_a_partial_fulfilment_takes_what_was_handed_over_and_releases_the_rest(
    conn: Connection, store: str
) -> None:
    await flush(conn, create("a", store, ("S1", 4)))
    [outcome] = await flush(conn, Fulfil("a", (Line("S1", 1),)))
    assert outcome.kind is OutcomeKind.DONE
    figures = await conn.fetchrow(
        "SELECT on_hand, reserved FROM balances WHERE location_id = $1 AND sku = 'S1'", store
    )
    assert tuple(figures) == (4, 0)


async def test_an_expiry_before_its_time_changes_nothing(conn: Connection, store: str) -> None:
    await flush(conn, create("a", store, ("S1", 2)))
    [early] = await flush(conn, Expire("a"), at=NOW + timedelta(minutes=5))
    [due] = await flush(conn, Expire("a"), at=NOW + timedelta(minutes=16))
    assert (early.kind, due.kind) == (OutcomeKind.NOT_DUE, OutcomeKind.DONE)
    assert due.reservation is not None
    assert due.reservation.status == "expired"


async def test_steps_on_an_unknown_or_finished_reservation_are_refused(
    conn: Connection, store: str
) -> None:
    await flush(conn, create("a", store, ("S1", 1)), Cancel("a"))
    outcomes = await flush(conn, Cancel("nobody"), Fulfil("a"), Cancel("a"))
    assert kinds(outcomes) == [
        (OutcomeKind.NOT_FOUND, "reservation_not_found"),
        (OutcomeKind.CONFLICT, "invalid_transition"),
        (OutcomeKind.DONE, "ok"),  # cancelling a cancelled reservation answers the same
    ]


async def test_the_same_message_twice_in_a_batch_is_decided_once_and_answered_twice(
    conn: Connection, store: str
) -> None:
    step = create("a", store, ("S1", 2))
    outcomes = await flush(conn, (step, message("m-1", "fp")), (step, message("m-1", "fp")))
    assert kinds(outcomes) == [(OutcomeKind.CREATED, "ok"), (OutcomeKind.CREATED, "duplicate")]
    replies = await conn.fetch("SELECT payload FROM outbox WHERE routing_key = 'r'")
    assert len(replies) == 2
    assert replies[0]["payload"] == replies[1]["payload"]


async def test_a_message_id_reused_in_the_same_batch_for_other_content_is_refused(
    conn: Connection, store: str
) -> None:
    outcomes = await flush(
        conn,
        (create("a", store, ("S1", 2)), message("m-1", "fp-a")),
        (create("b", store, ("S1", 1)), message("m-1", "fp-b")),
    )
    assert kinds(outcomes) == [
        (OutcomeKind.CREATED, "ok"),
        (OutcomeKind.CONFLICT, "message_id_reused"),
    ]
    assert (
        await conn.fetchval("SELECT count(*) FROM reservations WHERE location_id = $1", store) == 1
    )


async def test_a_create_at_an_unknown_location_is_invalid_and_the_batch_goes_on(
    conn: Connection, store: str
) -> None:
    outcomes = await flush(
        conn, create("x", "FL-NOWHERE", ("S1", 1)), create("a", store, ("S1", 1))
    )
    assert kinds(outcomes) == [
        (OutcomeKind.INVALID, "unknown_location"),
        (OutcomeKind.CREATED, "ok"),
    ]
