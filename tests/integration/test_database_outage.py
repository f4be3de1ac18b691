"""A database outage holds commands back; it never loses or dead-letters them."""

from __future__ import annotations

import asyncio

import msgspec
from aio_pika.abc import AbstractRobustConnection

from service.messaging.worker import Worker
from service.runtime import Runtime
from service.settings import Settings
from service.storage.change_feed import BALANCES_CHANNEL, ChangeFeed
from service.storage.database import Database
from tests.reservation_helpers import Inbox, Publisher, create_message, eventually, given_stock
from tests.tcp_proxy import TcpProxy, through


async def test_a_command_that_arrives_during_an_outage_is_applied_once_the_database_is_back(
    messaging_settings: Settings,
    db: Database,
    clean: None,
    broker: AbstractRobustConnection,
    db_proxy: TcpProxy,
) -> None:
    await given_stock(db, "ST-A", ("S1", 5))
    settings = msgspec.structs.replace(
        messaging_settings, database_url=through(messaging_settings.database_url, db_proxy.port)
    )
    runtime = await Runtime.start(settings)
    worker = Worker(runtime)
    await worker.start()
    replies = await Inbox.open(broker)
    publisher = await Publisher.open(broker)
    try:
        await db_proxy.down()
        await publisher.send(create_message("m-1", "r-1", "ST-A", ("S1", 2)), reply_to=replies.name)
        consumer = worker.consumer
        assert consumer is not None

        async def held_back() -> bool | None:  # taken, refused by the outage, waiting
            return True if consumer.waits_for_database >= 2 else None

        await eventually(held_back, "the command to wait for the database", within_s=30)
        assert replies.received == [], "nothing can be decided while the database is down"
        dead = await broker.channel()
        queue = await dead.get_queue("inventory.commands.dead-letter")
        assert (await queue.get(fail=False)) is None, (
            "an outage must not dead-letter a valid command"
        )
        await dead.close()

        await db_proxy.up()
        [reply] = await replies.wait_for(1, within_s=40)
        assert b'"reservation.confirmed"' in reply.body
        assert await db.pool.fetchval("SELECT reserved FROM balances WHERE sku = 'S1'") == 2
    finally:
        await publisher.close()
        await replies.close()
        await worker.stop()
        await runtime.stop()


async def test_a_change_feed_whose_connection_goes_silent_resets_the_caches_and_reconnects(
    settings: Settings, db_proxy: TcpProxy
) -> None:
    # A half-open connection closes nothing and delivers no notification: without a
    # heartbeat the caches would trust it, and stay stale, for as long as it lasts.
    feed = ChangeFeed(through(settings.database_url, db_proxy.port), heartbeat_s=0.2)
    resets: list[float] = []
    feed.on_reset(lambda: resets.append(asyncio.get_running_loop().time()))
    feed.subscribe(BALANCES_CHANNEL, lambda _payload: None)
    feed.start()
    await asyncio.wait_for(feed.connected.wait(), timeout=15)
    try:
        resets.clear()
        db_proxy.stalled = True
        for _ in range(100):
            if not feed.connected.is_set():
                break
            await asyncio.sleep(0.02)
        assert not feed.connected.is_set(), "a silent connection must count as lost"
        assert resets, "the caches must be told to forget"
        db_proxy.stalled = False
        await asyncio.wait_for(feed.connected.wait(), timeout=15)
    finally:
        await feed.stop()
