"""A command is applied only under its own routing key; what the consumer will not
apply is dead-lettered with its reason and its sender is told; what no binding takes
lands where an operator sees it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
from aio_pika.abc import AbstractRobustConnection

from service.messaging.topology import UNROUTABLE_QUEUE
from service.messaging.worker import Worker
from service.storage.database import Database
from service.storage.pool import Pool
from tests.reservation_helpers import (
    Inbox,
    Publisher,
    count_rows,
    create_message,
    dead_letters,
    eventually,
    given_stock,
    queue_depth,
)


@pytest.fixture
async def io(broker: AbstractRobustConnection) -> AsyncIterator[tuple[Publisher, Inbox]]:
    publisher = await Publisher.open(broker)
    inbox = await Inbox.open(broker)
    yield publisher, inbox
    await inbox.close()
    await publisher.close()


async def test_a_command_under_another_commands_routing_key_is_dead_lettered_not_applied(
    worker: Worker,
    db: Database,
    pool: Pool,
    broker: AbstractRobustConnection,
    io: tuple[Publisher, Inbox],
) -> None:
    publisher, inbox = io
    await given_stock(db, "ST-A", ("S1", 5))
    body = create_message("m-1", "r-1", "ST-A", ("S1", 2))
    await publisher.send(body, routing_key="stock.movements", reply_to=inbox.name)

    [dead] = await dead_letters(broker, 1)
    assert dead.headers["x-inventory-error"] == "routing_key_mismatch"
    assert dead.headers["x-original-routing-key"] == "stock.movements"
    [reply] = await inbox.wait_for(1)
    answer = msgspec.json.decode(reply.body)
    assert answer["type"] == "command.rejected"
    assert answer["reason"] == "routing_key_mismatch"
    assert answer["message_id"] == "m-1"
    assert "reservation.create command under the routing key stock.movements" in answer["detail"]
    assert await count_rows(pool, "reservations") == 0


async def test_a_poison_message_with_a_reply_to_is_answered_with_the_reason(
    worker: Worker, broker: AbstractRobustConnection, io: tuple[Publisher, Inbox]
) -> None:
    publisher, inbox = io
    await publisher.send(
        b"{not json", routing_key="reservation.create", message_id="m-9", reply_to=inbox.name
    )
    [dead] = await dead_letters(broker, 1)
    assert dead.headers["x-inventory-error"] == "undecodable"
    [reply] = await inbox.wait_for(1)
    answer = msgspec.json.decode(reply.body)
    assert (answer["type"], answer["reason"], answer["message_id"]) == (
        "command.rejected",
        "undecodable",
        "m-9",
    )
    assert reply.message_id == answer["event_id"]
    assert worker.consumer is not None
    assert worker.consumer.dead_lettered == 1


async def test_a_command_no_binding_takes_lands_in_the_unroutable_queue(
    worker: Worker, broker: AbstractRobustConnection, io: tuple[Publisher, Inbox]
) -> None:
    publisher, _ = io
    await publisher.send(create_message("m-1", "r-1", "ST-A", ("S1", 1)), routing_key="pickup-book")

    async def parked() -> bool | None:
        return True if await queue_depth(broker, UNROUTABLE_QUEUE) == 1 else None

    await eventually(parked, "the command in the unroutable queue")
