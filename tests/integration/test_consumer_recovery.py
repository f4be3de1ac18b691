"""The consumer comes back by itself: after the broker closes its channel, after its
connection is cut, and after the broker cancels it. Messages in flight at that moment
are redelivered and have their one effect (nothing is acked before its commit).

To be sure messages are in flight when the channel goes, the tests hold the balance's
row lock: no flush can commit, so nothing may be acked, until they release it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import msgspec
import pytest
from aio_pika.abc import AbstractRobustConnection

from service.messaging.topology import COMMANDS_QUEUE
from service.messaging.worker import Worker
from service.runtime import Runtime
from service.settings import Settings
from service.storage.database import Database
from service.storage.pool import Pool
from tests.reservation_helpers import (
    Inbox,
    Publisher,
    count_rows,
    create_message,
    eventually,
    figures,
    given_stock,
    ledger_errors,
    queue_depth,
)
from tests.tcp_proxy import TcpProxy, through

BURST = 60


@pytest.fixture
async def io(broker: AbstractRobustConnection) -> AsyncIterator[tuple[Publisher, Inbox]]:
    publisher, inbox = await Publisher.open(broker), await Inbox.open(broker)
    yield publisher, inbox
    await inbox.close()
    await publisher.close()


async def send_burst(publisher: Publisher, inbox: Inbox, prefix: str) -> None:
    for n in range(BURST):
        body = create_message(f"{prefix}-{n}", f"{prefix}-r{n}", "ST-A", ("S1", 1))
        await publisher.send(body, reply_to=inbox.name)


async def answered_once_each(pool: Pool, inbox: Inbox, prefixes: list[str]) -> None:
    """Every reservation of the bursts exists once, reserved matches, and each message
    was answered (a redelivered one again, with the very same reply)."""
    wanted = {f"{p}-r{n}" for p in prefixes for n in range(BURST)}

    def replies() -> dict[str, set[bytes]]:
        found: dict[str, set[bytes]] = {}
        for message in inbox.received:
            rid = msgspec.json.decode(message.body)["reservation"]["reservation_id"]
            found.setdefault(rid, set()).add(message.body)
        return found

    async def all_answered() -> bool | None:
        return True if set(replies()) >= wanted else None

    await eventually(all_answered, "a reply to every message", within_s=30)
    await inbox.settle(0.2)
    assert [rid for rid, bodies in replies().items() if len(bodies) > 1] == []
    assert await count_rows(pool, "reservations") == len(wanted)
    assert (await figures(pool, "ST-A", "S1")).reserved == len(wanted)
    assert await ledger_errors(pool) == []


@contextlib.asynccontextmanager
async def balance_locked(pool: Pool, location_id: str, sku: str) -> AsyncIterator[None]:
    """Hold the balance's row lock: every flush touching it waits, uncommitted."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "SELECT 1 FROM balances WHERE location_id = $1 AND sku = $2 FOR UPDATE",
            location_id,
            sku,
        )
        yield


async def delivered(broker: AbstractRobustConnection) -> None:
    """Wait until the command queue has handed every message out (none ready)."""

    async def empty() -> bool | None:
        return True if await queue_depth(broker, COMMANDS_QUEUE) == 0 else None

    await eventually(empty, "every message delivered to the consumer")


async def consumers_on(broker: AbstractRobustConnection, name: str) -> int:
    channel = await broker.channel()
    try:
        queue = await channel.declare_queue(name, passive=True)
        return int(queue.declaration_result.consumer_count or 0)
    finally:
        await channel.close()


async def consuming_again(worker: Worker, tag_before: str | None) -> None:
    """Until the consumer consumes again, under a new consumer tag, with nothing left
    under way (a consume or its retry)."""
    assert worker.consumer is not None
    subscription = worker.consumer.subscription

    async def again() -> bool | None:
        fresh = subscription.consuming and subscription.consumer_tag != tag_before
        return True if fresh and not subscription.busy else None

    await eventually(again, "the consumer to consume again", within_s=20)


async def no_longer_consuming(worker: Worker) -> None:
    assert worker.consumer is not None
    subscription = worker.consumer.subscription

    async def lost() -> bool | None:
        return True if not subscription.consuming else None

    await eventually(lost, "the consumer to lose its channel", within_s=20)


async def test_after_the_broker_closes_the_consumers_channel_it_consumes_again_and_loses_nothing(
    worker: Worker,
    db: Database,
    pool: Pool,
    broker: AbstractRobustConnection,
    io: tuple[Publisher, Inbox],
) -> None:
    publisher, inbox = io
    await given_stock(db, "ST-A", ("S1", 1000))
    assert worker.consumer is not None
    async with balance_locked(pool, "ST-A", "S1"):
        await send_burst(publisher, inbox, "before")
        await delivered(broker)
        # An ack of a tag the broker never sent is a channel error: the broker closes the
        # channel, and every message delivered on it and not yet acked goes back.
        tag_before = worker.consumer.subscription.consumer_tag
        underlay = await worker.consumer.subscription.channel.get_underlay_channel()
        await underlay.basic_ack(10_000_000)
        await consuming_again(worker, tag_before)
        assert await consumers_on(broker, COMMANDS_QUEUE) == 1
    await send_burst(publisher, inbox, "after")
    await answered_once_each(pool, inbox, ["before", "after"])


async def test_after_its_connection_is_cut_the_worker_reconnects_and_consumes_again(
    messaging_settings: Settings,
    db: Database,
    pool: Pool,
    clean: None,
    broker: AbstractRobustConnection,
    io: tuple[Publisher, Inbox],
) -> None:
    publisher, inbox = io
    await given_stock(db, "ST-A", ("S1", 1000))
    proxy = TcpProxy(5672)
    await proxy.up()
    settings = msgspec.structs.replace(
        messaging_settings,
        amqp_url=through(messaging_settings.amqp_url, proxy.port, query="reconnect_interval=0.2"),
    )
    runtime = await Runtime.start(settings)
    worker = Worker(runtime)
    await worker.start()
    try:
        async with balance_locked(pool, "ST-A", "S1"):
            await send_burst(publisher, inbox, "before")
            await delivered(broker)
            assert worker.consumer is not None
            tag_before = worker.consumer.subscription.consumer_tag
            await proxy.down()
            await no_longer_consuming(worker)
            await proxy.up()
            await consuming_again(worker, tag_before)
        await send_burst(publisher, inbox, "after")
        await answered_once_each(pool, inbox, ["before", "after"])
    finally:
        await worker.stop()
        await runtime.stop()
        await proxy.down()


async def test_when_the_broker_cancels_the_consumer_it_consumes_again(
    worker: Worker,
    db: Database,
    pool: Pool,
    broker: AbstractRobustConnection,
    io: tuple[Publisher, Inbox],
) -> None:
    publisher, inbox = io
    await given_stock(db, "ST-A", ("S1", 1000))
    assert worker.consumer is not None
    tag_before = worker.consumer.subscription.consumer_tag
    channel = await broker.channel()
    queue = await channel.get_queue(COMMANDS_QUEUE)
    await queue.delete(if_unused=False, if_empty=False)  # the broker cancels its consumers
    await channel.close()

    await consuming_again(worker, tag_before)  # and no retry left to consume a second time
    assert await consumers_on(broker, COMMANDS_QUEUE) == 1
    await send_burst(publisher, inbox, "after")  # the queue and its bindings are back
    await answered_once_each(pool, inbox, ["after"])
    await worker.consumer.stop()
    assert await consumers_on(broker, COMMANDS_QUEUE) == 0


async def test_a_stop_while_the_channel_reopens_leaves_no_consumer(
    worker: Worker, broker: AbstractRobustConnection
) -> None:
    assert worker.consumer is not None
    subscription = worker.consumer.subscription
    underlay = await subscription.channel.get_underlay_channel()
    await underlay.basic_ack(10_000_000)  # the broker closes the channel; it reopens
    await subscription.stop()

    async def reopened_and_settled() -> bool | None:
        fresh = await subscription.channel.get_underlay_channel()
        return (
            True
            if fresh is not underlay and not fresh.is_closed and not subscription.busy
            else None
        )

    await eventually(reopened_and_settled, "the channel to reopen", within_s=20)
    assert not subscription.consuming
    assert await consumers_on(broker, COMMANDS_QUEUE) == 0
