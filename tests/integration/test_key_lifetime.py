"""API keys that expire and rotate: an expired key is refused like an unknown one, on
every replica from the instant of its expiry; a rotated pair both work until the
overlap ends, then only the successor."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from litestar import Litestar

from service.domain.api_keys import KeyAlreadyRotated, KeyNotFound
from service.domain.errors import InvalidInput
from service.storage.api_keys import KeyCache
from service.storage.database import Database
from service.usecases.keys import create_key, list_keys, revoke_key, rotate_key, set_key_expiry
from tests.helpers import Client, client_of, given_locations
from tests.reservation_helpers import eventually

pytestmark = pytest.mark.usefixtures("clean")


def key_id_of(token: str) -> str:
    return token.split("_")[1]


async def status(app: Litestar, token: str) -> int:
    async with client_of(app, token) as http:
        return (await http.get("/v1/locations")).status_code


async def until_refused(app: Litestar, token: str, within_s: float = 5.0) -> httpx.Response:
    """The answer to the key once it is refused, or the last answer after ``within_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    async with client_of(app, token) as http:
        while True:
            response = await http.get("/v1/locations")
            if response.status_code == 401 or loop.time() > deadline:
                return response
            await asyncio.sleep(0.02)


async def sleep_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.05)


def assert_refused_like_an_unknown_key(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthorized"


# ------------------------------------------------------------------ expiry


async def test_an_expired_key_is_401_at_once_on_every_replica_that_had_verified_it(
    app: Litestar, db: Database
) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=1)
    token = await create_key(db, "short-lived", "reader", [], expires)
    other_replica = KeyCache(db)
    assert await status(app, token) == 200
    assert await other_replica.authenticate(token) is not None
    await sleep_until(expires)
    async with client_of(app, token) as http:  # no waiting: no message needed, no TTL
        response = await http.get("/v1/locations")
    assert_refused_like_an_unknown_key(response)
    assert other_replica.remembered(token) is None
    assert await other_replica.authenticate(token) is None


async def test_an_expiry_set_later_reaches_the_replicas_at_once(
    app: Litestar, db: Database
) -> None:
    token = await create_key(db, "expired by hand", "reader", [])
    assert await status(app, token) == 200
    assert await set_key_expiry(db, key_id_of(token), datetime.now(UTC))
    assert_refused_like_an_unknown_key(await until_refused(app, token))


async def test_an_expired_key_can_be_given_a_new_expiry_but_a_revoked_one_cannot(
    app: Litestar, db: Database
) -> None:
    token = await create_key(db, "lapsed", "reader", [])
    key_id = key_id_of(token)
    assert await set_key_expiry(db, key_id, datetime.now(UTC) - timedelta(days=1))
    assert_refused_like_an_unknown_key(await until_refused(app, token))
    assert await set_key_expiry(db, key_id, None)

    async def accepted_again() -> bool | None:  # once the NOTIFY reached the key cache
        return True if await status(app, token) == 200 else None

    await eventually(accepted_again, "the key accepted again", within_s=5)
    assert await revoke_key(db, key_id)
    assert not await set_key_expiry(db, key_id, None)
    assert not await set_key_expiry(db, "no-such-key", None)


async def test_a_key_cannot_be_created_already_expired(db: Database) -> None:
    with pytest.raises(InvalidInput) as refused:
        await create_key(db, "dead on arrival", "reader", [], datetime.now(UTC))
    assert refused.value.field == "expires"
    assert [k.principal.name for k in await list_keys(db)] == []


# ------------------------------------------------------------------ rotation


async def test_a_rotated_pair_both_work_until_the_overlap_ends_then_only_the_new_key(
    app: Litestar, db: Database
) -> None:
    old = await create_key(db, "webshop prod", "webshop", [])
    rotation = await rotate_key(db, key_id_of(old), timedelta(seconds=1))
    assert rotation.old_key_id == key_id_of(old) != rotation.key_id == key_id_of(rotation.token)
    assert await status(app, old) == 200
    assert await status(app, rotation.token) == 200
    await sleep_until(rotation.old_expires_at)
    assert_refused_like_an_unknown_key(await until_refused(app, old, within_s=0))
    assert await status(app, rotation.token) == 200


async def test_the_successor_has_the_old_keys_name_role_and_stores_and_names_it(
    db: Database, client: Client
) -> None:
    await given_locations(client, "ST-A", "ST-B")
    old = await create_key(db, "counter ST-A", "staff", ["ST-A", "ST-B"])
    rotation = await rotate_key(db, key_id_of(old), timedelta(days=7))
    by_id = {k.principal.key_id: k for k in await list_keys(db)}
    before, after = by_id[key_id_of(old)], by_id[rotation.key_id]
    assert after.principal.name == before.principal.name == "counter ST-A"
    assert after.principal.role == "staff"
    assert after.principal.location_ids == before.principal.location_ids == {"ST-A", "ST-B"}
    assert after.replaces_key_id == before.principal.key_id
    assert after.expires_at is None
    assert before.expires_at == rotation.old_expires_at


async def test_a_rotation_never_lengthens_the_old_keys_life(db: Database) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    old = await create_key(db, "ends soon", "reader", [], soon)
    rotation = await rotate_key(db, key_id_of(old), timedelta(days=7))
    assert rotation.old_expires_at == soon


async def test_a_key_with_an_active_successor_is_not_rotated_twice(db: Database) -> None:
    old = await create_key(db, "twice", "reader", [])
    first = await rotate_key(db, key_id_of(old), timedelta(days=7))
    with pytest.raises(KeyAlreadyRotated, match=first.key_id):
        await rotate_key(db, key_id_of(old), timedelta(days=7))
    second = await rotate_key(db, first.key_id, timedelta(days=7))
    assert second.old_key_id == first.key_id


async def test_two_rotations_of_one_key_at_once_issue_one_successor(db: Database) -> None:
    old = await create_key(db, "raced", "reader", [])
    results = await asyncio.gather(
        rotate_key(db, key_id_of(old), timedelta(days=7)),
        rotate_key(db, key_id_of(old), timedelta(days=7)),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["KeyAlreadyRotated", "Rotation"]
    assert len(await list_keys(db)) == 2


@pytest.mark.parametrize("state", ["revoked", "expired", "unknown"])
async def test_only_an_active_key_is_rotated(db: Database, state: str) -> None:
    token = await create_key(db, "gone", "reader", [])
    key_id = key_id_of(token)
    if state == "revoked":
        await revoke_key(db, key_id)
    elif state == "expired":
        await set_key_expiry(db, key_id, datetime.now(UTC))
    else:
        key_id = "no-such-key"
    with pytest.raises(KeyNotFound):
        await rotate_key(db, key_id, timedelta(days=7))
