"""Commands by message: duplicates have one effect and identical replies, poison
is dead-lettered with a reason while consuming goes on, business refusals are
answered, and a redelivery after a crash changes nothing (issue 3)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from aio_pika.abc import AbstractRobustConnection

from service.contracts.messages import command_decoder
from service.contracts.reservations import CreateReservation, ReservationLineIn
from service.domain.reservations import OutcomeKind
from service.messaging.topology import COMMANDS_QUEUE, DEAD_LETTER_QUEUE
from service.messaging.worker import Worker
from service.runtime import Runtime
from service.settings import Settings
from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases.commands import MessageCommands
from service.usecases.message_idempotency import Delivery
from service.usecases.reservations import create_reservation
from tests.reservation_helpers import (
    Inbox,
    Publisher,
    count_rows,
    create_message,
    dead_letters,
    eventually,
    figures,
    given_stock,
    ledger_errors,
    lines_of,
    movements_of,
    queue_depth,
)

Messages = tuple[Publisher, Inbox]


@pytest.fixture
async def messages(broker: AbstractRobustConnection) -> AsyncIterator[Messages]:
    """A publisher of commands and a reply queue."""
    publisher, inbox = await Publisher.open(broker), await Inbox.open(broker)
    yield publisher, inbox
    await inbox.close()
    await publisher.close()


@pytest.fixture
async def store(worker: Worker, db: Database) -> str:
    """ST-A holding 3 of S1 and 10 of S2, with a worker consuming."""
    await given_stock(db, "ST-A", ("S1", 3), ("S2", 10))
    return "ST-A"


async def ask(messages: Messages, body: dict[str, Any], **properties: Any) -> dict[str, Any]:
    """Publish ``body`` with reply_to and return the next reply's payload."""
    publisher, inbox = messages
    expected = len(inbox.received) + 1
    await publisher.send(body, reply_to=inbox.name, **properties)
    replies = await inbox.wait_for(expected)
    payload: dict[str, Any] = msgspec.json.decode(replies[-1].body)
    return payload


def cancel(message_id: str, reservation_id: str, **more: Any) -> dict[str, Any]:
    return {
        "type": "reservation.cancel",
        "message_id": message_id,
        "reservation_id": reservation_id,
        **more,
    }


def fulfil(message_id: str, reservation_id: str, **more: Any) -> dict[str, Any]:
    return {
        "type": "reservation.fulfil",
        "message_id": message_id,
        "reservation_id": reservation_id,
        **more,
    }


def receipts(message_id: str, *movements: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "type": "stock.movements",
        "message_id": message_id,
        "movements": [
            {"kind": "receipt", "location_id": loc, "sku": sku, "quantity": q}
            for loc, sku, q in movements
        ],
    }


async def books(pool: Pool) -> tuple[list[tuple[Any, ...]], ...]:
    """What a command can change: balances, movements, reservations and their lines."""
    queries = (
        "SELECT location_id, sku, on_hand, reserved FROM balances ORDER BY 1, 2",
        "SELECT movement_id, sku, kind, on_hand_delta, reserved_delta FROM movements ORDER BY 1",
        "SELECT reservation_id, status, updated_at FROM reservations ORDER BY 1",
        "SELECT reservation_id, sku, quantity, fulfilled FROM reservation_lines ORDER BY 1, 2",
    )
    found = []
    for query in queries:
        found.append([tuple(row) for row in await pool.fetch(query)])
    return tuple(found)


# ------------------------------------------------------------------ delivered twice


async def test_a_message_delivered_twice_at_once_has_one_effect_and_identical_replies(
    store: str, messages: Messages, pool: Pool
) -> None:
    publisher, inbox = messages
    body = create_message("m-1", "r-1", store, ("S1", 2))

    for _ in range(2):
        await publisher.send(body, reply_to=inbox.name, correlation_id="c-1")
    first, second = await inbox.wait_for(2)

    assert first.body == second.body
    assert first.correlation_id == second.correlation_id == "c-1"
    assert msgspec.json.decode(first.body)["type"] == "reservation.confirmed"
    assert await movements_of(pool, "r-1") == [("reserve", "S1", 0, 2)]
    assert await count_rows(pool, "reservations") == 1
    assert await ledger_errors(pool) == []


@pytest.mark.parametrize(
    "order",
    [("A", "A", "B"), ("A", "B", "A"), ("B", "A", "A")],
    ids=["AAB", "ABA", "BAA"],
)
async def test_a_duplicate_before_or_after_a_competing_message_changes_nothing(
    store: str, messages: Messages, pool: Pool, order: tuple[str, ...]
) -> None:
    """A and B each want 2 of the 3 units: the first to arrive wins, whatever the duplicate."""
    sent = {
        "A": create_message("m-a", "r-a", store, ("S1", 2)),
        "B": create_message("m-b", "r-b", store, ("S1", 2)),
    }

    replies = [await ask(messages, sent[name], correlation_id=name) for name in order]

    a_replies = [r for name, r in zip(order, replies, strict=True) if name == "A"]
    assert a_replies[0] == a_replies[1]
    by_name = dict(zip(order, replies, strict=True))
    winner, loser = ("A", "B") if order[0] == "A" else ("B", "A")
    assert by_name[winner]["type"] == "reservation.confirmed"
    assert by_name[loser]["type"] == "reservation.rejected"
    assert by_name[loser]["reason"] == "insufficient_stock"
    winner, loser = sent[winner]["reservation_id"], sent[loser]["reservation_id"]
    assert await movements_of(pool, winner) == [("reserve", "S1", 0, 2)]
    assert await movements_of(pool, loser) == []
    assert (await figures(pool, store, "S1")).reserved == 2
    assert await ledger_errors(pool) == []


async def test_a_redelivered_refusal_is_answered_the_same_even_after_stock_arrived(
    store: str, messages: Messages, pool: Pool
) -> None:
    body = create_message("m-1", "r-1", store, ("S1", 5))
    first = await ask(messages, body, correlation_id="c-1")
    assert first["type"] == "reservation.rejected"
    assert first["short_lines"] == [{"sku": "S1", "requested": 5, "available": 3}]
    applied = await ask(messages, receipts("m-stock", (store, "S1", 10)))
    assert applied["type"] == "stock.movements.applied"

    again = await ask(messages, body, correlation_id="c-1")

    assert again == first
    assert await count_rows(pool, "reservations") == 0
    assert (await figures(pool, store, "S1")).reserved == 0


async def test_a_cancel_delivered_twice_around_another_step_releases_once(
    store: str, messages: Messages, pool: Pool
) -> None:
    await ask(messages, create_message("m-1", "r-1", store, ("S1", 2), ("S2", 1)))

    cancelled = await ask(messages, cancel("m-2", "r-1", reason="customer"))
    refused = await ask(messages, fulfil("m-3", "r-1"))
    again = await ask(messages, cancel("m-2", "r-1", reason="customer"))

    assert cancelled["type"] == "reservation.cancelled"
    assert cancelled["reservation"]["status"] == "cancelled"
    assert refused["type"] == "reservation.rejected"
    assert refused["reason"] == "invalid_transition"
    assert again == cancelled
    assert sorted(await movements_of(pool, "r-1")) == [
        ("release", "S1", 0, -2),
        ("release", "S2", 0, -1),
        ("reserve", "S1", 0, 2),
        ("reserve", "S2", 0, 1),
    ]
    assert await ledger_errors(pool) == []


async def test_a_message_id_reused_for_another_command_is_refused_and_changes_nothing(
    store: str, messages: Messages, pool: Pool
) -> None:
    await ask(messages, create_message("m-1", "r-1", store, ("S1", 1)))
    before = await books(pool)

    reused = await ask(messages, create_message("m-1", "r-2", store, ("S2", 1)))

    assert reused["type"] == "reservation.rejected"
    assert reused["reason"] == "message_id_reused"
    assert await books(pool) == before


# ------------------------------------------------------------------ refusals are answered


async def test_the_same_reservation_by_http_then_by_message_is_confirmed_and_reserved_once(
    store: str, messages: Messages, pool: Pool, messaging_runtime: Runtime
) -> None:
    command = CreateReservation(
        reservation_id="r-1", location_id=store, lines=[ReservationLineIn("S1", 2)]
    )
    made = await create_reservation(
        messaging_runtime.engine, messaging_runtime.settings, command, "api"
    )
    assert made.kind is OutcomeKind.CREATED

    answer = await ask(messages, create_message("m-1", "r-1", store, ("S1", 2)))

    assert answer["type"] == "reservation.confirmed"
    assert answer["reservation"]["lines"] == [{"sku": "S1", "quantity": 2, "fulfilled": 0}]
    assert await movements_of(pool, "r-1") == [("reserve", "S1", 0, 2)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (create_message("m-9", "r-9", "ST-A", ("S1", 4), ("S2", 1)), "insufficient_stock"),
        (create_message("m-9", "r-9", "ST-NOWHERE", ("S1", 1)), "unknown_location"),
        (create_message("m-9", "r-1", "ST-A", ("S2", 1)), "reservation_conflict"),
        (cancel("m-9", "r-nobody"), "reservation_not_found"),
    ],
    ids=["no-stock", "unknown-location", "conflict", "not-found"],
)
async def test_a_business_refusal_is_acked_and_answered_not_dead_lettered(
    store: str,
    messages: Messages,
    pool: Pool,
    broker: AbstractRobustConnection,
    body: dict[str, Any],
    reason: str,
) -> None:
    await ask(messages, create_message("m-1", "r-1", store, ("S1", 1)))
    before = await books(pool)

    answer = await ask(messages, body)

    assert answer["type"] == "reservation.rejected"
    assert answer["reason"] == reason
    assert answer["reservation_id"] == body["reservation_id"]
    if reason == "insufficient_stock":
        assert answer["short_lines"] == [{"sku": "S1", "requested": 4, "available": 2}]
    assert await books(pool) == before
    await messages[1].settle(0.2)
    assert await queue_depth(broker, DEAD_LETTER_QUEUE) == 0
    assert await queue_depth(broker, COMMANDS_QUEUE) == 0


# ------------------------------------------------------------------ cancel, fulfil, stock


async def test_reservations_are_cancelled_and_fulfilled_by_message(
    store: str, messages: Messages, pool: Pool
) -> None:
    await ask(messages, create_message("m-1", "r-1", store, ("S2", 4)))
    await ask(messages, create_message("m-2", "r-2", store, ("S1", 2), ("S2", 3)))

    cancelled = await ask(messages, cancel("m-3", "r-1"))
    fulfilled = await ask(messages, fulfil("m-4", "r-2", lines=lines_of(("S2", 2))))

    assert cancelled["type"] == "reservation.cancelled"
    assert fulfilled["type"] == "reservation.fulfilled"
    assert fulfilled["reservation"]["lines"] == [
        {"sku": "S1", "quantity": 2, "fulfilled": 0},
        {"sku": "S2", "quantity": 3, "fulfilled": 2},
    ]
    s1, s2 = await figures(pool, store, "S1"), await figures(pool, store, "S2")
    assert (s1.on_hand, s1.reserved, s2.on_hand, s2.reserved) == (3, 0, 8, 0)
    assert await ledger_errors(pool) == []


async def test_a_stock_movements_message_is_applied_once_per_message_id(
    store: str, messages: Messages, pool: Pool
) -> None:
    body = receipts("m-1", (store, "S1", 5), (store, "S3", 2))

    first = await ask(messages, body, correlation_id="c-1")
    again = await ask(messages, body, correlation_id="c-1")

    assert first["type"] == "stock.movements.applied"
    assert first["message_id"] == "m-1"
    assert again == first
    assert (await figures(pool, store, "S1")).on_hand == 8
    assert (await figures(pool, store, "S3")).on_hand == 2
    assert await count_rows(pool, "movements", "idempotency_key = 'm-1'") == 2


async def test_a_stock_movements_message_naming_an_unknown_location_is_rejected_whole(
    store: str, messages: Messages, pool: Pool
) -> None:
    before = await books(pool)

    answer = await ask(messages, receipts("m-1", (store, "S1", 5), ("ST-NOWHERE", "S1", 1)))

    assert answer["type"] == "stock.movements.rejected"
    assert answer["reason"] == "unknown_location"
    assert answer["field"] == "movements[1].location_id"
    assert await books(pool) == before


# ------------------------------------------------------------------ poison


POISON = [
    (b"{this is not json", "reservation.create", "undecodable"),
    (b'{"type": "reservation.teleport", "message_id": "p"}', "reservation.teleport", "unknown_type"),
    (msgspec.json.encode(create_message("p", "r-p", "ST-A", ("S1", 0))), "reservation.create",
     "invalid_message"),
    (msgspec.json.encode({"type": "reservation.create", "message_id": "p", "reservation_id": "r-p",
                          "lines": lines_of(("S1", 1))}), "reservation.create", "invalid_message"),
    (msgspec.json.encode(create_message("p", "r-p", "ST-A", ("S1", 1), ("S1", 1))),
     "reservation.create", "invalid_input"),
    (msgspec.json.encode(fulfil("p", "r-p", lines=lines_of(("S1", 1), ("S1", 1)))),
     "reservation.fulfil", "invalid_input"),
]  # fmt: skip


async def test_poison_of_every_kind_is_dead_lettered_with_its_reason_and_consuming_goes_on(
    store: str, messages: Messages, broker: AbstractRobustConnection, pool: Pool
) -> None:
    """Each poison message is followed by a good one, which must still be confirmed."""
    publisher, inbox = messages
    for index, (body, routing_key, _) in enumerate(POISON):
        await publisher.send(body, routing_key=routing_key, message_id=f"p-{index}")
        good = create_message(f"m-{index}", f"r-{index}", store, ("S2", 1))
        await publisher.send(good, reply_to=inbox.name)

    replies = await inbox.wait_for(len(POISON))
    dead = await dead_letters(broker, len(POISON))

    assert [msgspec.json.decode(r.body)["type"] for r in replies] == ["reservation.confirmed"] * 6
    reasons = {m.message_id: m.headers["x-inventory-error"] for m in dead}
    assert reasons == {f"p-{i}": reason for i, (_, _, reason) in enumerate(POISON)}
    assert {m.message_id: m.body for m in dead} == {
        f"p-{i}": b for i, (b, _, _) in enumerate(POISON)
    }
    assert all(m.headers["x-inventory-error-detail"] for m in dead)
    assert await count_rows(pool, "reservations") == len(POISON)
    assert await queue_depth(broker, COMMANDS_QUEUE) == 0


# ------------------------------------------------------------------ crash before ack


def redelivered_commands(store: str) -> list[dict[str, Any]]:
    return [
        create_message("m-1", "r-1", store, ("S1", 1), ("S2", 2)),
        cancel("m-1", "r-0"),
        fulfil("m-1", "r-0", lines=lines_of(("S2", 1))),
        receipts("m-1", (store, "S1", 4)),
        create_message("m-1", "r-1", store, ("S1", 9)),
        receipts("m-1", (store, "S1", 4), ("ST-NOWHERE", "S1", 1)),
    ]


@pytest.mark.parametrize(
    "index",
    range(6),
    ids=["create", "cancel", "fulfil", "stock-movements", "refused-create", "refused-movements"],
)
async def test_a_redelivery_after_commit_and_before_ack_changes_nothing_and_is_answered_the_same(
    store: str, messages: Messages, pool: Pool, messaging_runtime: Runtime, index: int
) -> None:
    """The first delivery's effect is committed as the consumer would commit it, and
    the ack never happened: the broker delivers the same message again."""
    rt = messaging_runtime
    reserve_r0 = CreateReservation(
        reservation_id="r-0", location_id=store, lines=[ReservationLineIn("S2", 3)]
    )
    assert (
        await create_reservation(rt.engine, rt.settings, reserve_r0, "test")
    ).kind is OutcomeKind.CREATED
    body = redelivered_commands(store)[index]
    publisher, inbox = messages
    command = command_decoder.decode(msgspec.json.encode(body))
    await MessageCommands(rt.engine, rt.db, rt.settings).start(command, Delivery(inbox.name, "c-1"))
    [first] = await inbox.wait_for(1)
    before = await books(pool)

    await publisher.send(body, reply_to=inbox.name, correlation_id="c-1")

    second = (await inbox.wait_for(2))[1]
    assert second.body == first.body
    assert second.correlation_id == first.correlation_id == "c-1"
    assert second.message_id == first.message_id, "a consumer deduplicates replies on it"
    assert await books(pool) == before
    assert await ledger_errors(pool) == []


@pytest.fixture
async def small_window(messaging_settings: Settings) -> AsyncIterator[Runtime]:
    """A replica whose consumer holds at most 20 deliveries at a time."""
    settings = msgspec.structs.replace(
        messaging_settings, consumer_prefetch=20, consumer_concurrency=20
    )
    rt = await Runtime.start(settings)
    yield rt
    await rt.stop()


async def test_a_consumer_killed_before_acking_loses_nothing_and_repeats_nothing(
    small_window: Runtime,
    clean: None,
    broker: AbstractRobustConnection,
    messages: Messages,
    db: Database,
    pool: Pool,
) -> None:
    """The first worker stops with deliveries it holds unacked (some committed, some
    not yet decided) and its connection drops; a second worker takes over the queue."""
    await given_stock(db, "ST-A", ("S1", 10_000))
    publisher, inbox = messages
    total = 120
    everyone = {f"r-{i}" for i in range(total)}
    await asyncio.gather(
        *(
            publisher.send(create_message(f"m-{rid}", rid, "ST-A", ("S1", 1)),
                           reply_to=inbox.name, correlation_id=rid)
            for rid in everyone
        )
    )  # fmt: skip
    first = Worker(small_window)
    await first.start()

    async def some_committed() -> int | None:
        done = await count_rows(pool, "reservations")
        return done if done >= 10 else None

    await eventually(some_committed, "the first worker to commit some reservations")
    await kill(first)
    left = await queue_depth(broker, COMMANDS_QUEUE)
    second = Worker(small_window)
    await second.start()

    async def all_answered() -> bool | None:
        return {r.correlation_id for r in inbox.received} >= everyone or None

    try:
        await eventually(all_answered, "an answer to every message", within_s=20)
        await inbox.settle(0.2)
    finally:
        await second.stop()

    assert left > 0, "the kill came too late to leave anything to redeliver"
    assert await count_rows(pool, "reservations") == total
    assert await count_rows(pool, "movements", "kind = 'reserve'") == total
    assert (await figures(pool, "ST-A", "S1")).reserved == total
    bodies: dict[str | None, set[bytes]] = {}
    for reply in inbox.received:
        bodies.setdefault(reply.correlation_id, set()).add(reply.body)
    assert [rid for rid, seen in bodies.items() if len(seen) > 1] == []
    assert await ledger_errors(pool) == []


async def kill(worker: Worker) -> None:
    """Stop the worker's consumer without letting it ack, then drop its connection: the
    deliveries it holds return to the queue, whether or not their work committed."""
    assert worker.connection is not None
    assert worker.consumer is not None
    await worker.consumer.stop(grace_s=0)  # no new deliveries; unacked ones stay unacked
    in_flight = set(worker.consumer._in_flight)
    await worker.connection.close()
    for task in worker._tasks:
        task.cancel()
    _, stuck = await asyncio.wait([*worker._tasks, *in_flight], timeout=0.5)
    for task in stuck:  # an ack on the closed channel may never return
        task.cancel()
    await asyncio.gather(*worker._tasks, *in_flight, return_exceptions=True)
