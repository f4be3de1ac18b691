"""The webshop books and cancels pickups by message (inventory.commands): answered on
reply_to, exactly once, and announced on inventory.events without the code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aio_pika
import msgspec
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from service.messaging.topology import DEAD_LETTER_QUEUE
from service.messaging.worker import Worker
from service.storage.pool import Pool
from tests.pickup_helpers import (
    CUSTOMER,
    Client,
    at_noon,
    booked,
    given_pickup_store,
    lines_of,
    on_hand_and_reserved,
    slot_usage,
    table_rows,
)


class Inbox:
    """A queue of the test's own (exclusive, auto-delete) that keeps what arrives."""

    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self.queue = queue
        self.received: list[AbstractIncomingMessage] = []

    async def keep(self, message: AbstractIncomingMessage) -> None:
        self.received.append(message)

    def payloads(self) -> list[dict[str, Any]]:
        return [msgspec.json.decode(m.body) for m in self.received]

    async def wait_for(self, count: int, within_s: float = 10.0) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while len(self.received) < count:
            assert loop.time() < deadline, f"{len(self.received)} of {count} messages arrived"
            await asyncio.sleep(0.02)
        return self.payloads()

    async def settled(self, count: int, quiet_s: float = 0.5) -> list[dict[str, Any]]:
        """The first ``count`` messages, after making sure no more follow for ``quiet_s``."""
        await self.wait_for(count)
        await asyncio.sleep(quiet_s)
        return self.payloads()


class Webshop:
    """Publishes commands to inventory.commands and listens for replies and events."""

    def __init__(self, channel: aio_pika.abc.AbstractChannel) -> None:
        self.channel = channel

    async def inbox(self, *routing_keys: str) -> Inbox:
        """A reply queue; or, with ``routing_keys``, a queue bound to inventory.events."""
        queue = await self.channel.declare_queue(exclusive=True, auto_delete=True)
        for key in routing_keys:
            await queue.bind("inventory.events", key)
        inbox = Inbox(queue)
        await queue.consume(inbox.keep, no_ack=True)
        return inbox

    async def send(self, body: dict[str, Any], reply_to: str, correlation_id: str = "c-1") -> None:
        exchange = await self.channel.get_exchange("inventory.commands")
        await exchange.publish(
            aio_pika.Message(
                msgspec.json.encode(body),
                content_type="application/json",
                message_id=body["message_id"],
                reply_to=reply_to,
                correlation_id=correlation_id,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=body["type"],
        )


@pytest.fixture
async def webshop(worker: Worker, broker: AbstractRobustConnection) -> AsyncIterator[Webshop]:
    channel = await broker.channel(publisher_confirms=True)
    yield Webshop(channel)
    await channel.close()


def book_message(
    message_id: str, pickup_id: str, slot_start: datetime, *lines: tuple[str, int]
) -> dict[str, Any]:
    return {
        "type": "pickup.book", "message_id": message_id, "pickup_id": pickup_id,
        "location_id": "ST-A", "slot_start": slot_start.isoformat(), "lines": lines_of(*lines),
        "customer": CUSTOMER,
    }  # fmt: skip


async def test_a_pickup_booked_by_message_is_answered_with_the_booking_and_its_code(
    webshop: Webshop, client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    replies = await webshop.inbox()
    await webshop.send(book_message("m-1", "P1", at_noon(1), ("S1", 2)), replies.queue.name, "c-7")
    (reply,) = await replies.wait_for(1)
    assert reply["type"] == "pickup.booked"
    assert reply["correlation_id"] == "c-7"
    assert replies.received[0].correlation_id == "c-7"
    assert reply["pickup"]["pickup_id"] == "P1"
    assert reply["pickup"]["status"] == "booked"
    assert len(reply["pickup_code"]) == 9
    assert reply["pickup_code"][4] == "-"
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 2)
    answer = await client.post(
        "/v1/pickups/P1/ready",
    )
    assert answer.status_code == 200, answer.text
    collected = await client.post("/v1/pickups/P1/collect", json={"code": reply["pickup_code"]})
    assert collected.json()["status"] == "collected", collected.text


async def test_the_same_book_message_twice_books_once_and_is_answered_identically(
    webshop: Webshop, client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    replies = await webshop.inbox()
    message = book_message("m-1", "P1", at_noon(1), ("S1", 2))
    await webshop.send(message, replies.queue.name)
    await replies.wait_for(1)
    await webshop.send(message, replies.queue.name)
    first, second = await replies.settled(2)
    assert first == second
    assert first["type"] == "pickup.booked"
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 2)
    assert await slot_usage(pool, "ST-A", at_noon(1)) == 1
    count = await pool.fetchval("SELECT count(*) FROM pickups")
    assert count == 1


async def test_a_pickup_booked_by_message_leaves_its_code_nowhere_in_the_database(
    webshop: Webshop, client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    replies = await webshop.inbox()
    await webshop.send(book_message("m-1", "P1", at_noon(1), ("S1", 2)), replies.queue.name)
    (reply,) = await replies.wait_for(1)
    code = reply["pickup_code"]
    await until_outbox_drained(pool)
    tables = [
        r["tablename"]
        for r in await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ]
    stored = await table_rows(pool, *tables)
    holding = sorted(
        t for t, rows in stored.items() for row in rows
        if code in row or code.replace("-", "") in row
    )  # fmt: skip
    assert holding == [], f"the code {code} is stored in {holding}"


async def until_outbox_drained(pool: Pool, within_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while await pool.fetchval("SELECT count(*) FROM outbox"):
        assert loop.time() < deadline, "the relay never emptied the outbox"
        await asyncio.sleep(0.05)


async def test_a_book_message_for_a_pickup_booked_over_http_answers_the_booking_without_its_code(
    webshop: Webshop, client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    over_http = await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    replies = await webshop.inbox()
    await webshop.send(book_message("m-2", "P1", at_noon(1), ("S1", 2)), replies.queue.name)
    (reply,) = await replies.wait_for(1)
    assert reply["type"] == "pickup.booked"
    assert reply["pickup"] == over_http["pickup"]
    assert reply["pickup_code"] is None  # the code went to the key that booked it, only
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 2)


async def test_a_refused_book_message_is_answered_pickup_rejected_and_reserves_nothing(
    webshop: Webshop, client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 1))
    replies = await webshop.inbox()
    await webshop.send(book_message("m-1", "P1", at_noon(1), ("S1", 3)), replies.queue.name)
    (reply,) = await replies.wait_for(1)
    assert reply["type"] == "pickup.rejected"
    assert (reply["command"], reply["pickup_id"], reply["reason"]) == (
        "pickup.book",
        "P1",
        "insufficient_stock",
    )
    assert [x["sku"] for x in reply["short_lines"]] == ["S1"]
    assert "pickup_code" not in reply
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (1, 0)
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 0


async def test_a_book_message_for_a_full_slot_is_rejected_as_slot_unavailable(
    webshop: Webshop, client: Client
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5), capacity_per_slot=1)
    await booked(client, "P0", "ST-A", at_noon(1), ("S1", 1))
    replies = await webshop.inbox()
    await webshop.send(book_message("m-1", "P1", at_noon(1), ("S1", 1)), replies.queue.name)
    (reply,) = await replies.wait_for(1)
    assert (reply["type"], reply["reason"]) == ("pickup.rejected", "slot_unavailable")


async def test_a_cancel_message_releases_the_stock_and_frees_the_place(
    webshop: Webshop, client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    replies = await webshop.inbox()
    cancel = {"type": "pickup.cancel", "message_id": "m-9", "pickup_id": "P1", "reason": "oops"}
    await webshop.send(cancel, replies.queue.name)
    (reply,) = await replies.wait_for(1)
    assert reply["type"] == "pickup.cancelled"
    assert (reply["pickup"]["status"], reply["reason"]) == ("cancelled", "oops")
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 0)
    assert await slot_usage(pool, "ST-A", at_noon(1)) == 0


async def test_a_cancel_sent_right_after_its_booking_finds_the_booking_and_cancels_it(
    webshop: Webshop, client: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 9))
    replies = await webshop.inbox()
    for n in range(3):
        await webshop.send(
            book_message(f"b-{n}", f"P{n}", at_noon(1), ("S1", 1)), replies.queue.name
        )
        cancel = {"type": "pickup.cancel", "message_id": f"c-{n}", "pickup_id": f"P{n}"}
        await webshop.send(cancel, replies.queue.name)
    answers = await replies.wait_for(6)
    assert sorted(a["type"] for a in answers) == ["pickup.booked"] * 3 + ["pickup.cancelled"] * 3
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (9, 0)


async def test_a_cancel_message_for_an_unknown_pickup_is_rejected(
    webshop: Webshop, client: Client
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    replies = await webshop.inbox()
    cancel = {"type": "pickup.cancel", "message_id": "m-9", "pickup_id": "P-NONE"}
    await webshop.send(cancel, replies.queue.name)
    (reply,) = await replies.wait_for(1)
    assert (reply["type"], reply["command"], reply["reason"]) == (
        "pickup.rejected",
        "pickup.cancel",
        "pickup_not_found",
    )


async def test_pickup_events_on_inventory_events_never_carry_the_code(
    webshop: Webshop, client: Client
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    events = await webshop.inbox("pickup.*")
    replies = await webshop.inbox()
    await webshop.send(book_message("m-1", "P1", at_noon(1), ("S1", 1)), replies.queue.name)
    (reply,) = await replies.wait_for(1)
    code = reply["pickup_code"]
    await booked(client, "P2", "ST-A", at_noon(1), ("S1", 1))
    assert (await client.post("/v1/pickups/P2/ready")).status_code == 200
    announced = await events.wait_for(3)
    assert sorted((e["type"], e["pickup"]["pickup_id"]) for e in announced) == [
        ("pickup.booked", "P1"),
        ("pickup.booked", "P2"),
        ("pickup.ready", "P2"),
    ]
    for event in announced:
        assert event.get("pickup_code") is None
        raw = msgspec.json.encode(event).decode()
        assert code not in raw
        assert code.replace("-", "") not in raw


@pytest.mark.parametrize(
    "command",
    [
        {"type": "reservation.cancel", "message_id": "m-5", "reservation_id": "pickup:P1"},
        {"type": "reservation.fulfil", "message_id": "m-5", "reservation_id": "pickup:P1"},
    ],
    ids=["cancel", "fulfil"],
)
async def test_a_pickups_reservation_cannot_be_changed_by_a_reservation_message(
    webshop: Webshop,
    broker: AbstractRobustConnection,
    client: Client,
    pool: Pool,
    command: dict[str, Any],
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    await booked(client, "P1", "ST-A", at_noon(1), ("S1", 2))
    replies = await webshop.inbox()
    await webshop.send(command, replies.queue.name)
    await answered_or_dead_lettered(replies, broker)
    assert await on_hand_and_reserved(pool, "ST-A", "S1") == (5, 2)
    status = await pool.fetchval(
        "SELECT status FROM reservations WHERE reservation_id = 'pickup:P1'"
    )
    assert status == "active"
    assert (await client.get("/v1/pickups/P1")).json()["status"] == "booked"


async def answered_or_dead_lettered(
    replies: Inbox, broker: AbstractRobustConnection, within_s: float = 10.0
) -> None:
    """Wait until the worker answered the command or dead-lettered it."""
    channel = await broker.channel()
    try:
        dead = await channel.declare_queue(DEAD_LETTER_QUEUE, passive=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while not replies.received:
            message = await dead.get(fail=False)
            if message is not None:
                await message.ack()
                return
            assert loop.time() < deadline, "the command was neither answered nor dead-lettered"
            await asyncio.sleep(0.05)
    finally:
        await channel.close()
