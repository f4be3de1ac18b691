"""Correlation ids (service/correlation.py), tracing off: a request's or a message's id
on every event and reply it causes, and on every line logged while it is served."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from service.contracts.reservations import CreateReservation, ReservationLineIn
from service.logging import REQUEST_ID
from service.messaging.worker import Worker
from service.runtime import Runtime
from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases.reservation_steps import Create, Origin
from service.usecases.reservations import create_step
from tests.reservation_helpers import (
    Inbox,
    Publisher,
    create_body,
    create_message,
    eventually,
    given_stock,
    reserve,
)

Client = httpx.AsyncClient


@pytest.fixture
async def events(broker: AbstractRobustConnection) -> AsyncIterator[Inbox]:
    inbox = await Inbox.open(broker, "inventory.events", "reservation.*", "stock.shortage")
    yield inbox
    await inbox.close()


@pytest.fixture
async def replies(broker: AbstractRobustConnection) -> AsyncIterator[tuple[Publisher, Inbox]]:
    publisher, inbox = await Publisher.open(broker), await Inbox.open(broker)
    yield publisher, inbox
    await inbox.close()
    await publisher.close()


async def event_of(events: Inbox, routing_key: str, reservation_id: str) -> AbstractIncomingMessage:
    async def found() -> AbstractIncomingMessage | None:
        return next(
            (
                m
                for m in events.received
                if m.routing_key == routing_key and reservation_id.encode() in m.body
            ),
            None,
        )

    return await eventually(found, f"{routing_key} of {reservation_id}")


async def test_an_http_reservation_event_carries_the_request_id_as_its_correlation_id(
    worker: Worker, events: Inbox, client: Client, db: Database
) -> None:
    await given_stock(db, "ST-A", ("S1", 5))

    named = await client.post(
        "/v1/reservations",
        json=create_body("r-1", "ST-A", ("S1", 1)),
        headers={"X-Request-ID": "checkout-42"},
    )
    unnamed = await reserve(client, create_body("r-2", "ST-A", ("S1", 9)))

    assert named.status_code == 201
    confirmed = await event_of(events, "reservation.confirmed", "r-1")
    assert confirmed.correlation_id == "checkout-42"
    assert not confirmed.headers  # no traceparent while tracing is off
    rejected = await event_of(events, "reservation.rejected", "r-2")
    assert rejected.correlation_id == unnamed.headers["x-request-id"]


async def test_a_consumed_command_passes_its_correlation_id_to_its_reply_and_events(
    worker: Worker, events: Inbox, replies: tuple[Publisher, Inbox], db: Database
) -> None:
    publisher, inbox = replies
    await given_stock(db, "ST-A", ("S1", 5))

    await publisher.send(
        create_message("m-1", "r-1", "ST-A", ("S1", 1)), reply_to=inbox.name, correlation_id="c-9"
    )
    await publisher.send(create_message("m-2", "r-2", "ST-A", ("S1", 1)), reply_to=inbox.name)

    answered = {m.message_id: m for m in await inbox.wait_for(2)}
    assert sorted(m.correlation_id for m in answered.values()) == ["c-9", "m-2"]
    assert (await event_of(events, "reservation.confirmed", "r-1")).correlation_id == "c-9"
    assert (await event_of(events, "reservation.confirmed", "r-2")).correlation_id == "m-2"


async def test_each_request_decided_in_one_flush_keeps_its_own_correlation_id(
    runtime: Runtime, clean: None, pool: Pool
) -> None:
    await given_stock(runtime.db, "ST-A", ("S1", 10))
    engine, decided = runtime.engine, []
    flushes_before = engine.flushes
    for n in range(1, 4):  # queued before the engine runs: one flush decides all three
        submitter = contextvars.Context()
        submitter.run(REQUEST_ID.set, f"req-{n}")
        decided.append(
            submitter.run(engine.enqueue, create(runtime, f"r-{n}"), Origin(actor="test"))
        )

    for future in decided:
        await future

    assert engine.flushes == flushes_before + 1
    rows = await pool.fetch(
        "SELECT correlation_id, convert_from(payload, 'UTF8') AS body FROM outbox"
        " WHERE routing_key = 'reservation.confirmed' ORDER BY correlation_id"
    )
    assert [(r["correlation_id"], f'"r-{n}"' in r["body"]) for n, r in enumerate(rows, 1)] == [
        ("req-1", True),
        ("req-2", True),
        ("req-3", True),
    ]


async def test_log_lines_carry_the_correlation_id_of_their_message_or_round(
    worker: Worker, replies: tuple[Publisher, Inbox], caplog: pytest.LogCaptureFixture
) -> None:
    publisher, _ = replies
    caplog.set_level(logging.INFO)

    await publisher.send(b"not json", routing_key="reservation.create", message_id="m-bad")
    await publisher.send(
        b"{}", routing_key="reservation.create", message_id="m-bad-2", correlation_id="c-bad"
    )

    async def dead_lettered() -> list[dict[str, object]] | None:
        lines = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
        found = [d for d in lines if d.get("event") == "message_dead_lettered"]
        return found if len(found) == 2 else None

    assert {line["correlation_id"] for line in await eventually(dead_lettered, "2 lines")} == {
        "m-bad",
        "c-bad",
    }


def create(runtime: Runtime, reservation_id: str) -> Create:
    lines = [ReservationLineIn(sku="S1", quantity=1)]
    command = CreateReservation(reservation_id=reservation_id, location_id="ST-A", lines=lines)
    return create_step(command, runtime.settings)
