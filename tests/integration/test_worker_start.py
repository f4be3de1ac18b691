"""A worker started while the broker is down waits for it, says so, and then works."""

from __future__ import annotations

import asyncio

import msgspec
from aio_pika.abc import AbstractRobustConnection

from service.messaging.worker import Worker
from service.runtime import Runtime
from service.settings import Settings
from service.storage.database import Database
from tests.reservation_helpers import Inbox, Publisher, create_message, eventually, given_stock
from tests.tcp_proxy import TcpProxy, through


async def test_a_worker_started_while_the_broker_is_down_consumes_once_it_is_back(
    messaging_settings: Settings, db: Database, clean: None, broker: AbstractRobustConnection
) -> None:
    await given_stock(db, "ST-A", ("S1", 5))
    proxy = TcpProxy(5672)
    await proxy.up()
    await proxy.down()
    settings = msgspec.structs.replace(
        messaging_settings, amqp_url=through(messaging_settings.amqp_url, proxy.port)
    )
    runtime = await Runtime.start(settings)
    worker = Worker(runtime)
    starting = asyncio.create_task(worker.start())
    publisher = await Publisher.open(broker)
    replies = await Inbox.open(broker)
    try:
        await asyncio.sleep(0)
        assert worker.broker_state() == "waiting for the broker"
        assert not starting.done()
        await publisher.send(create_message("m-1", "r-1", "ST-A", ("S1", 2)), reply_to=replies.name)
        await proxy.up()
        await asyncio.wait_for(starting, timeout=30)

        async def connected() -> bool | None:
            return True if worker.broker_state() == "ok" else None

        await eventually(connected, "the worker's broker connection")
        [reply] = await replies.wait_for(1, within_s=20)
        assert b'"reservation.confirmed"' in reply.body
    finally:
        await replies.close()
        await publisher.close()
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        await worker.stop()
        await runtime.stop()
        await proxy.down()
