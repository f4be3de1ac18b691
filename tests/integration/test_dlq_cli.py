"""``inventory dlq``, run as the operator runs it, on the real broker: a dead letter is
listed and shown with its reason; replayed once the cause is fixed, it is applied once
through the normal consumer, and replaying it again changes nothing; purge removes
only what it names; reading gives every message back in its order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
import pytest
from aio_pika.abc import AbstractRobustConnection

from service.messaging.topology import COMMANDS_QUEUE, DEAD_LETTER_QUEUE, DELIVERY_LIMIT
from service.messaging.worker import Worker
from service.runtime import Runtime
from service.settings import Settings
from service.storage.database import Database
from service.storage.pool import Pool
from tests.integration.test_cli import inventory
from tests.reservation_helpers import (
    Inbox,
    Publisher,
    count_rows,
    create_message,
    eventually,
    figures,
    given_stock,
    queue_depth,
)

DAY_S = 24 * 3600
TEN_DAYS = create_message("m-10d", "r-10d", "ST-A", ("S1", 2), ttl_seconds=10 * DAY_S)


@asynccontextmanager
async def consuming(runtime: Runtime) -> AsyncIterator[Worker]:
    running = Worker(runtime)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def fixed_runtime(messaging_settings: Settings) -> AsyncIterator[Runtime]:
    """The worker after the fix: reservations may now last 30 days."""
    settings = msgspec.structs.replace(messaging_settings, reservation_max_ttl_s=30 * DAY_S)
    runtime = await Runtime.start(settings)
    yield runtime
    await runtime.stop()


async def dlq(amqp_url: str, *args: str) -> tuple[int, str, str]:
    return await inventory("dlq", *args, INVENTORY_AMQP_URL=amqp_url)


async def listed(amqp_url: str) -> list[list[str]]:
    code, out, err = await dlq(amqp_url, "list")
    assert code == 0, err
    lines = out.splitlines()
    if lines == ["dead-letter queue: empty"]:
        return []
    assert lines[0] == "MESSAGE_ID\tCOMMAND\tREASON\tDEAD_LETTERED\tTIMES"
    return [line.split("\t") for line in lines[1:]]


async def until_depth(broker: AbstractRobustConnection, queue: str, depth: int) -> None:
    async def reached() -> bool | None:
        return True if await queue_depth(broker, queue) == depth else None

    await eventually(reached, f"{depth} message(s) in {queue}")


async def dead_lettered_by_a_worker_without_the_fix(
    runtime: Runtime, broker: AbstractRobustConnection, inbox: Inbox
) -> None:
    """A 10-day reservation sent to a worker whose maximum is 7 days: dead-lettered."""
    async with consuming(runtime):
        publisher = await Publisher.open(broker)
        await publisher.send(TEN_DAYS, reply_to=inbox.name)
        await publisher.close()
        await until_depth(broker, DEAD_LETTER_QUEUE, 1)


async def replayed_to_the_fixed_worker(
    runtime: Runtime, broker: AbstractRobustConnection, amqp_url: str, inbox: Inbox
) -> None:
    """``dlq replay m-10d`` with the fixed worker consuming, until it has answered."""
    answered = len(inbox.received) + 1
    async with consuming(runtime):
        code, out, err = await dlq(amqp_url, "replay", "m-10d")
        assert code == 0, err
        assert out == "replayed m-10d (reservation.create) under reservation.create\n"
        await inbox.wait_for(answered)
        await until_depth(broker, COMMANDS_QUEUE, 0)
    assert await queue_depth(broker, DEAD_LETTER_QUEUE) == 0


@pytest.mark.usefixtures("clean")
async def test_a_dead_letter_replayed_after_the_fix_is_applied_once_and_again_changes_nothing(
    messaging_runtime: Runtime,
    fixed_runtime: Runtime,
    broker: AbstractRobustConnection,
    amqp_url: str,
    db: Database,
    pool: Pool,
) -> None:
    await given_stock(db, "ST-A", ("S1", 5))
    inbox = await Inbox.open(broker)
    await dead_lettered_by_a_worker_without_the_fix(messaging_runtime, broker, inbox)

    [line] = await listed(amqp_url)
    assert line[:3] == ["m-10d", "reservation.create", "invalid_input"]
    assert line[3].endswith(" UTC")
    assert line[4] == "1"
    code, shown, err = await dlq(amqp_url, "show", "m-10d")
    assert code == 0, err
    assert "detail: ttl_seconds: ttl_seconds may be at most 604800" in shown
    assert '"reply_to": "' + inbox.name + '"' in shown
    assert '"ttl_seconds": 864000' in shown
    assert await queue_depth(broker, DEAD_LETTER_QUEUE) == 1  # reading took nothing

    await replayed_to_the_fixed_worker(fixed_runtime, broker, amqp_url, inbox)
    assert await count_rows(pool, "reservations") == 1
    assert (await figures(pool, "ST-A", "S1")).reserved == 2

    # A copy of the same message meets a replica not yet restarted with the fix, and is
    # dead-lettered again; replaying it now is a duplicate of what was applied.
    await dead_lettered_by_a_worker_without_the_fix(messaging_runtime, broker, inbox)
    await replayed_to_the_fixed_worker(fixed_runtime, broker, amqp_url, inbox)

    assert await count_rows(pool, "reservations") == 1
    assert (await figures(pool, "ST-A", "S1")).reserved == 2
    types = [msgspec.json.decode(m.body)["type"] for m in inbox.received]
    assert types == ["command.rejected", "reservation.confirmed"] * 2
    await inbox.close()


async def dead_lettered_poison(broker: AbstractRobustConnection, *ids: str) -> None:
    publisher = await Publisher.open(broker)
    for message_id in ids:
        await publisher.send(b"{not json", routing_key="stock.movements", message_id=message_id)
    await publisher.close()
    await until_depth(broker, DEAD_LETTER_QUEUE, len(ids))


async def test_purge_removes_only_what_it_names_and_needs_yes(
    worker: Worker, broker: AbstractRobustConnection, amqp_url: str
) -> None:
    await dead_lettered_poison(broker, "p-1", "p-2", "p-3")
    first = await listed(amqp_url)
    assert [(x[0], x[1], x[2], x[4]) for x in first] == [
        (f"p-{i}", "(not a command)", "undecodable", "1") for i in (1, 2, 3)
    ]
    assert await listed(amqp_url) == first  # reading gives them back in their order

    assert (await dlq(amqp_url, "purge", "p-2"))[0] == 2  # no --yes
    code, _, err = await dlq(amqp_url, "purge", "p-2", "p-9", "--yes")
    assert code == 1
    assert "not in the dead-letter queue: p-9; nothing done" in err
    assert [x[0] for x in await listed(amqp_url)] == ["p-1", "p-2", "p-3"]

    code, out, err = await dlq(amqp_url, "purge", "p-2", "--yes")
    assert code == 0, err
    assert out == "purged p-2 ((not a command), undecodable)\n"
    assert [x[0] for x in await listed(amqp_url)] == ["p-1", "p-3"]

    code, _, _ = await dlq(amqp_url, "purge", "--all", "--yes")
    assert code == 0
    assert await listed(amqp_url) == []


async def test_a_replayed_message_still_poison_comes_back_counted_twice(
    worker: Worker, broker: AbstractRobustConnection, amqp_url: str
) -> None:
    await dead_lettered_poison(broker, "p-1", "p-2")

    code, _, err = await dlq(amqp_url, "replay", "p-1")
    assert code == 0, err

    async def back() -> list[list[str]] | None:
        found = await listed(amqp_url)
        return found if len(found) == 2 else None

    again = await eventually(back, "p-1 dead-lettered again")
    assert [(x[0], x[4]) for x in again] == [("p-2", "1"), ("p-1", "2")]
    assert worker.consumer is not None
    assert worker.consumer.dead_lettered == 3


async def test_a_command_naming_nothing_or_both_is_refused(amqp_url: str) -> None:
    assert (await dlq(amqp_url, "replay"))[0] == 2
    assert (await dlq(amqp_url, "replay", "p-1", "--all"))[0] == 2
    code, _, err = await dlq(amqp_url, "show", "nothing-here")
    assert code == 1
    assert "no dead letter 'nothing-here'" in err


async def dead_lettered_by_the_broker(
    broker: AbstractRobustConnection, body: dict[str, object]
) -> None:
    """No worker: the command is taken and given back until the quorum queue's delivery
    limit makes the broker dead-letter it (as a worker that crashes on it each time)."""
    publisher = await Publisher.open(broker)
    await publisher.send(body)
    await publisher.close()
    channel = await broker.channel()
    queue = await channel.get_queue(COMMANDS_QUEUE)
    for _ in range(DELIVERY_LIMIT + 1):
        message = await queue.get(no_ack=False, fail=False)
        if message is None:
            break
        await message.nack(requeue=True)
    await channel.close()
    await until_depth(broker, DEAD_LETTER_QUEUE, 1)


@pytest.mark.usefixtures("clean")
async def test_a_message_the_broker_dead_lettered_is_listed_with_its_reason_and_replays(
    messaging_runtime: Runtime,
    broker: AbstractRobustConnection,
    amqp_url: str,
    db: Database,
    pool: Pool,
) -> None:
    await given_stock(db, "ST-A", ("S1", 5))
    await dead_lettered_by_the_broker(broker, create_message("m-b", "r-b", "ST-A", ("S1", 1)))

    [line] = await listed(amqp_url)
    assert line[:3] == ["m-b", "reservation.create", "broker:delivery_limit"]
    assert line[4] == "1"

    async with consuming(messaging_runtime):
        code, out, err = await dlq(amqp_url, "replay", "--all")
        assert code == 0, err
        assert out == "replayed m-b (reservation.create) under reservation.create\n"

        async def reserved() -> int | None:
            found = (await figures(pool, "ST-A", "S1")).reserved
            return found or None

        assert await eventually(reserved, "the replayed reservation") == 1
    assert await queue_depth(broker, DEAD_LETTER_QUEUE) == 0
