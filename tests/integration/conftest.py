"""RabbitMQ fixtures: a vhost of this test run's own, and a running worker.

The vhost is created with rabbitmqctl (the machine's broker) and deleted at the
end, so runs never see each other's messages.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection

from service.messaging.topology import (
    COMMANDS_QUEUE,
    DEAD_LETTER_QUEUE,
    UNROUTABLE_QUEUE,
    declare,
    policy_command,
)
from service.messaging.worker import Worker
from service.runtime import Runtime
from service.settings import Settings, load_settings
from tests.tcp_proxy import TcpProxy


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def amqp_url() -> object:
    vhost = f"inventory-test-{secrets.token_hex(4)}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    rabbitmqctl(*policy_command(vhost)[1:])
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def messaging_settings(database_url: str, amqp_url: str) -> Settings:
    return load_settings(
        {},
        database_url=database_url,
        amqp_url=amqp_url,
        environment="test",
        run_workers_in_process=False,
        sweep_interval_s=0.2,
        availability_event_window_s=0.1,
    )


@pytest.fixture(scope="session")
async def messaging_runtime(messaging_settings: Settings) -> AsyncIterator[Runtime]:
    rt = await Runtime.start(messaging_settings)
    yield rt
    await rt.stop()


@pytest.fixture
async def broker(amqp_url: str) -> AsyncIterator[AbstractRobustConnection]:
    """A connection to the test vhost, with the service's queues declared and empty."""
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    topology = await declare(channel)
    await topology.commands_queue.purge()
    await topology.dead_letter_queue.purge()
    await (await channel.get_queue(UNROUTABLE_QUEUE)).purge()
    await channel.close()
    yield connection
    await connection.close()


@pytest.fixture
async def worker(
    messaging_runtime: Runtime, clean: None, broker: AbstractRobustConnection
) -> AsyncIterator[Worker]:
    """A running worker (consumer, relay, sweeper) on an empty database and queues."""
    messaging_runtime.read_model.reset()
    await messaging_runtime.read_model.locations.load()
    running = Worker(messaging_runtime)
    await running.start()
    yield running
    await running.stop()
    await asyncio.sleep(0)


__all__ = ["COMMANDS_QUEUE", "DEAD_LETTER_QUEUE"]


@pytest.fixture
async def db_proxy() -> AsyncIterator[TcpProxy]:
    """A TCP proxy in front of the local PostgreSQL that a test can cut or stall."""
    running = TcpProxy(5432)
    await running.up()
    yield running
    await running.down()
