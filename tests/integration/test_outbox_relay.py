"""The outbox relay deletes a row only once the broker has confirmed its message."""

from __future__ import annotations

import asyncio
import contextlib

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection

from service.messaging.relay import OutboxRelay
from service.runtime import Runtime
from service.storage.outbox import OutboxRepository, event, reply
from service.storage.pool import Pool
from service.usecases.outbox import PublishFailed
from tests.reservation_helpers import eventually
from tests.tcp_proxy import TcpProxy, through

ANSWERING = ("m-1", "fingerprint")


async def test_a_message_the_broker_refuses_stays_in_the_outbox(
    messaging_runtime: Runtime, clean: None, broker: AbstractRobustConnection, pool: Pool
) -> None:
    channel = await broker.channel(publisher_confirms=True)
    full = await channel.declare_queue(
        exclusive=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    await messaging_runtime.db.run(
        lambda conn: OutboxRepository(conn).add([reply(full.name, b'{"n": 1}', "c-1", ANSWERING)])
    )
    relay = OutboxRelay(messaging_runtime.db, channel, batch=10, wakeup=asyncio.Event())

    with pytest.raises(PublishFailed, match="DeliveryError"):
        await relay.relay_once()

    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1
    assert not messaging_runtime.db.outage.ongoing


async def test_a_silent_broker_under_the_relay_is_not_a_database_outage(
    messaging_runtime: Runtime, clean: None, amqp_url: str, pool: Pool
) -> None:
    """A broker that stops answering (its confirms never come) fails the relay's round
    within the block's deadline as the broker's fault: taken for the database not
    answering, it would refuse every database caller of the process while it lasts."""
    proxy = TcpProxy(5672)
    await proxy.up()
    connection = await aio_pika.connect(through(str(amqp_url), proxy.port))
    try:
        channel = await connection.channel(publisher_confirms=True)
        await messaging_runtime.db.run(
            lambda conn: OutboxRepository(conn).add([reply("nowhere", b"{}", "c-1", ANSWERING)])
        )
        relay = OutboxRelay(messaging_runtime.db, channel, batch=10, wakeup=asyncio.Event())
        proxy.stalled = True

        with pytest.raises(PublishFailed, match="TimeoutError"):
            await relay.relay_once()
    finally:
        await proxy.down()
        with contextlib.suppress(Exception):
            await connection.close()

    assert not messaging_runtime.db.outage.ongoing
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_a_confirmed_message_is_delivered_and_deleted(
    messaging_runtime: Runtime, clean: None, broker: AbstractRobustConnection, pool: Pool
) -> None:
    channel = await broker.channel(publisher_confirms=True)
    queue = await channel.declare_queue(exclusive=True)
    await messaging_runtime.db.run(
        lambda conn: OutboxRepository(conn).add([reply(queue.name, b'{"n": 2}', "c-2", ANSWERING)])
    )
    relay = OutboxRelay(messaging_runtime.db, channel, batch=10, wakeup=asyncio.Event())

    assert await relay.relay_once() == 1

    message = await queue.get(timeout=5)
    assert message.body == b'{"n": 2}'
    assert (message.correlation_id, message.content_type) == ("c-2", "application/json")
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_the_relay_refuses_a_channel_without_publisher_confirms(
    messaging_runtime: Runtime, broker: AbstractRobustConnection
) -> None:
    channel = await broker.channel(publisher_confirms=False)
    with pytest.raises(ValueError, match="publisher confirms"):
        OutboxRelay(messaging_runtime.db, channel, batch=10, wakeup=asyncio.Event())


async def test_a_relay_stopped_in_the_middle_of_a_batch_finishes_it_and_publishes_nothing_twice(
    messaging_runtime: Runtime, clean: None, broker: AbstractRobustConnection, pool: Pool
) -> None:
    channel = await broker.channel(publisher_confirms=True)
    inbox = await channel.declare_queue(exclusive=True)
    await inbox.bind("inventory.events", "test.relay")
    rows = [event("test.relay", b"{}", f"e-{n}") for n in range(3000)]
    await messaging_runtime.db.run(lambda conn: OutboxRepository(conn).add(rows))
    relay = OutboxRelay(messaging_runtime.db, channel, batch=500, wakeup=asyncio.Event())
    running = asyncio.create_task(relay.run_forever())

    async def first_batch_out() -> bool | None:  # and the next one in flight
        return True if relay.published else None

    await eventually(first_batch_out, "the first batch", within_s=30)
    await relay.stop()
    await asyncio.wait_for(running, timeout=30)
    while await relay.relay_once():  # what a relay started afterwards publishes
        pass

    ids: list[str] = []
    while (message := await inbox.get(fail=False, timeout=5)) is not None:
        ids.append(str(message.message_id))
        await message.ack()
    assert len(ids) == len(set(ids)) == 3000
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
