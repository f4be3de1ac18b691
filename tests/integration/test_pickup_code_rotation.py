"""Rotating the pickup-code secret: codes made before the rotation still collect, and
repeated bookings still get them, while the previous secret is configured; a code
whose secret is gone does not collect (and is not counted against the customer);
the lockout counts wrong codes across the rotation.

``client`` is a replica before the rotation (the session's secret); the others are
replicas started with other secrets, on the same database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest

from service.api.app import create_app
from service.contracts.messages import command_decoder
from service.domain.pickups import secret_id
from service.runtime import Runtime
from service.settings import Settings
from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases.commands import MessageCommands
from service.usecases.message_idempotency import Delivery
from service.usecases.pickup_code_secrets import code_secrets_of, secrets_in_use
from tests.helpers import client_of
from tests.integration.test_cli import inventory
from tests.pickup_helpers import (
    CUSTOMER,
    Client,
    assert_problem,
    at_noon,
    book,
    booked,
    given_pickup_store,
    lines_of,
    ok,
    pickup_row,
)

NEW = "the-pickup-code-secret-after-the-rotation"
WRONG = "ZZZZ-ZZZZ"


@asynccontextmanager
async def replica(
    settings: Settings, api_key: str, current: str, previous: str | None
) -> AsyncIterator[Client]:
    """Another replica of the service, configured with these pickup-code secrets."""
    configured = msgspec.structs.replace(
        settings,
        pickup_code_secret=current,
        pickup_code_secret_previous=previous,
        availability_cache_warm=False,
        db_pool_min=1,
        db_pool_max=3,
    )
    runtime = await Runtime.start(configured)
    try:
        async with client_of(create_app(runtime=runtime), api_key, "rotated") as http:
            yield http
    finally:
        await runtime.stop()


def key_of(client: Client) -> str:
    """The API key ``client`` sends: the replicas act as the same caller (the code of a
    booking reaches only the key that made it)."""
    return client.headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
async def rotated(settings: Settings, client: Client) -> AsyncIterator[Client]:
    """A replica after the rotation: the new secret, and the session's as the previous."""
    async with replica(settings, key_of(client), NEW, settings.pickup_code_secret) as http:
        yield http


@pytest.fixture
async def old_secret_removed(settings: Settings, client: Client) -> AsyncIterator[Client]:
    """A replica after the rotation, once the previous secret is no longer configured."""
    async with replica(settings, key_of(client), NEW, None) as http:
        yield http


async def ready_pickup(client: Client, pickup_id: str = "P1") -> str:
    """ST-A with stock, a pickup booked and made ready through ``client``; its code."""
    await given_pickup_store(client, "ST-A", ("S1", 10))
    answer = await booked(client, pickup_id, "ST-A", at_noon(1), ("S1", 1))
    await ok(await client.post(f"/v1/pickups/{pickup_id}/ready"))
    code: str = answer["pickup_code"]
    return code


async def collect(client: Client, code: str, pickup_id: str = "P1") -> Any:
    return await client.post(f"/v1/pickups/{pickup_id}/collect", json={"code": code})


async def test_a_code_made_before_the_rotation_collects_after_it(
    client: Client, rotated: Client, pool: Pool, settings: Settings
) -> None:
    code = await ready_pickup(client)
    assert (await pickup_row(pool, "P1"))["code_secret_id"] == secret_id(
        settings.pickup_code_secret
    )
    assert_problem(await collect(rotated, WRONG), 422, "wrong_pickup_code")
    assert (await ok(await collect(rotated, code)))["status"] == "collected"


async def test_a_repeated_booking_gets_the_same_code_on_both_sides_of_the_rotation(
    client: Client, rotated: Client, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 10))
    before = await booked(client, "P1", "ST-A", at_noon(1), ("S1", 1))
    again = await book(rotated, "P1", "ST-A", at_noon(1), ("S1", 1))
    assert again.status_code == 200, again.text
    assert again.json()["pickup_code"] == before["pickup_code"]

    after = await booked(rotated, "P2", "ST-A", at_noon(1), ("S1", 1))
    assert (await pickup_row(pool, "P2"))["code_secret_id"] == secret_id(NEW)
    assert after["pickup_code"] != before["pickup_code"]
    again = await book(rotated, "P2", "ST-A", at_noon(1), ("S1", 1))
    assert again.json()["pickup_code"] == after["pickup_code"]


async def test_a_code_whose_secret_is_no_longer_configured_does_not_collect_nor_count(
    client: Client, old_secret_removed: Client, rotated: Client, pool: Pool
) -> None:
    code = await ready_pickup(client)
    for attempt in (code, WRONG, code):
        refused = await collect(old_secret_removed, attempt)
        assert_problem(refused, 409, "pickup_code_unavailable")
    row = await pickup_row(pool, "P1")
    assert (row["status"], row["failed_attempts"], row["locked_until"]) == ("ready", 0, None)
    repeat = await book(old_secret_removed, "P1", "ST-A", at_noon(1), ("S1", 1))
    assert_problem(repeat, 409, "pickup_code_unavailable")
    assert (await ok(await collect(rotated, code)))["status"] == "collected"


async def test_a_code_made_with_the_new_secret_is_not_checked_by_a_replica_without_it(
    client: Client, rotated: Client, pool: Pool
) -> None:
    """A rolling restart: a replica still on the old configuration cannot check a new
    code; it says so and counts nothing, and a replica with the new secret collects."""
    code = await ready_pickup(rotated)
    assert_problem(await collect(client, code), 409, "pickup_code_unavailable")
    assert (await pickup_row(pool, "P1"))["failed_attempts"] == 0
    assert (await ok(await collect(rotated, code)))["status"] == "collected"


async def test_the_lockout_counts_wrong_codes_across_the_rotation(
    client: Client, rotated: Client, pool: Pool
) -> None:
    code = await ready_pickup(client)
    for _ in range(3):
        assert_problem(await collect(client, WRONG), 422, "wrong_pickup_code")
    assert_problem(await collect(rotated, WRONG), 422, "wrong_pickup_code")
    assert_problem(await collect(rotated, WRONG), 423, "pickup_locked")
    assert_problem(await collect(rotated, code), 423, "pickup_locked")
    assert_problem(await collect(client, code), 423, "pickup_locked")
    assert (await pickup_row(pool, "P1"))["status"] == "ready"


async def test_a_pickup_booked_before_secrets_were_recorded_is_checked_by_its_own_secret(
    client: Client, rotated: Client, old_secret_removed: Client, pool: Pool
) -> None:
    code = await ready_pickup(client)
    await pool.execute("UPDATE pickups SET code_secret_id = NULL WHERE pickup_id = 'P1'")
    assert_problem(await collect(old_secret_removed, code), 409, "pickup_code_unavailable")
    assert_problem(await collect(rotated, WRONG), 422, "wrong_pickup_code")
    repeat = await book(rotated, "P1", "ST-A", at_noon(1), ("S1", 1))
    assert repeat.json()["pickup_code"] == code
    assert (await ok(await collect(rotated, code)))["status"] == "collected"


async def test_a_redelivered_booking_message_whose_secret_is_gone_is_answered_with_a_rejection(
    client: Client, runtime: Runtime, settings: Settings, pool: Pool
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 10))
    body = {
        "type": "pickup.book", "message_id": "m-1", "pickup_id": "P1", "location_id": "ST-A",
        "slot_start": at_noon(1).isoformat(), "lines": lines_of(("S1", 1)), "customer": CUSTOMER,
    }  # fmt: skip
    before = MessageCommands(runtime.engine, runtime.db, settings)
    first = await before.start(command_decoder.decode(msgspec.json.encode(body)), Delivery("in"))
    assert first.ok
    after = msgspec.structs.replace(settings, pickup_code_secret=NEW)
    again = MessageCommands(runtime.engine, runtime.db, after)
    await again.start(command_decoder.decode(msgspec.json.encode(body)), Delivery("in"))
    replies = await pool.fetch("SELECT payload FROM outbox WHERE routing_key = 'in' ORDER BY 1")
    booked_reply, rejected = (msgspec.json.decode(r["payload"]) for r in replies)
    assert booked_reply["type"] == "pickup.booked"
    assert (rejected["type"], rejected["reason"]) == ("pickup.rejected", "pickup_code_unavailable")
    assert "pickup_code" not in rejected


# ------------------------------------------------------------------ when the previous can go


async def test_secrets_in_use_say_when_the_previous_secret_is_no_longer_needed(
    client: Client, rotated: Client, db: Database, settings: Settings
) -> None:
    code = await ready_pickup(client)
    await booked(rotated, "P2", "ST-A", at_noon(1), ("S1", 1))
    after = code_secrets_of(msgspec.structs.replace(
        settings, pickup_code_secret=NEW, pickup_code_secret_previous=settings.pickup_code_secret
    ))  # fmt: skip
    uses = {u.role: u for u in await secrets_in_use(db, after)}
    assert (uses["current"].secret_id, uses["current"].live) == (secret_id(NEW), 1)
    assert uses["previous"].live == 1
    assert uses["previous"].last_hold_until is not None
    await ok(await collect(rotated, code))
    uses = {u.role: u for u in await secrets_in_use(db, after)}
    assert (uses["previous"].live, uses["previous"].last_hold_until) == (0, None)


async def test_the_pickup_secrets_command_names_each_secret_and_what_still_needs_it(
    client: Client, database_url: str, settings: Settings
) -> None:
    await ready_pickup(client)
    code, out, err = await inventory(
        "pickup-secrets",
        INVENTORY_DATABASE_URL=database_url,
        INVENTORY_PICKUP_CODE_SECRET=NEW,
        INVENTORY_PICKUP_CODE_SECRET_PREVIOUS=settings.pickup_code_secret,
    )
    assert code == 0, err
    current, previous = out.strip().splitlines()
    assert current.split()[:3] == ["current", secret_id(NEW), "0"]
    assert previous.split()[:3] == ["previous", secret_id(settings.pickup_code_secret), "1"]
    assert "keep INVENTORY_PICKUP_CODE_SECRET_PREVIOUS until then" in previous
    code, out, err = await inventory(
        "pickup-secrets", INVENTORY_DATABASE_URL=database_url, INVENTORY_PICKUP_CODE_SECRET=NEW
    )
    assert code == 0, err
    assert out.strip().splitlines()[1].split()[:3] == [
        "missing", secret_id(settings.pickup_code_secret), "1"
    ]  # fmt: skip
