"""``inventory keys``: create with an expiry, list it, set it later, rotate a key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.storage.database import Database
from service.usecases.keys import list_keys
from tests.integration.test_cli import inventory

pytestmark = pytest.mark.usefixtures("clean")


def rows(listing: str) -> dict[str, list[str]]:
    """key_id -> the columns of ``keys list`` (the header checked and left out)."""
    lines = listing.strip().splitlines()
    assert lines[0].split("\t") == [
        "KEY_ID", "ROLE", "STORES", "STATE", "EXPIRES", "REPLACES", "NAME"
    ]  # fmt: skip
    return {line.split("\t")[0]: line.split("\t") for line in lines[1:]}


async def test_a_key_created_with_an_expiry_lists_it(database_url: str) -> None:
    env = {"INVENTORY_DATABASE_URL": database_url}
    code, out, err = await inventory(
        "keys", "create", "--name", "app", "--role", "reader", "--expires", "2099-06-30", **env
    )
    assert code == 0, err
    assert "expires: 2099-06-30 00:00 UTC" in err
    key_id = out.strip().split("_")[1]
    code, out, err = await inventory("keys", "list", **env)
    assert code == 0, err
    assert rows(out)[key_id] == [
        key_id, "reader", "-", "active", "2099-06-30 00:00 UTC", "-", "app"
    ]  # fmt: skip


async def test_rotate_prints_the_new_key_once_and_list_shows_the_pair(
    database_url: str, db: Database
) -> None:
    env = {"INVENTORY_DATABASE_URL": database_url}
    code, out, err = await inventory(
        "keys", "create", "--name", "shop", "--role", "webshop", "--valid-for", "90d", **env
    )
    assert code == 0, err
    old_id = out.strip().split("_")[1]
    code, out, err = await inventory("keys", "rotate", old_id, "--overlap", "2d", **env)
    assert code == 0, err
    new_id = out.strip().split("_")[1]
    assert f"key {new_id} replaces {old_id}" in err
    assert f"the old key {old_id} works until" in err
    code, listing, _ = await inventory("keys", "list", **env)
    listed = rows(listing)
    assert listed[new_id][1:] == ["webshop", "-", "active", "never", old_id, "shop"]
    assert listed[old_id][3] == "active"
    keys = {k.principal.key_id: k for k in await list_keys(db)}
    assert keys[old_id].expires_at is not None
    overlap = keys[old_id].expires_at - keys[new_id].created_at
    assert timedelta(days=2) - timedelta(seconds=5) < overlap < timedelta(days=2, seconds=5)
    code, _, err = await inventory("keys", "rotate", old_id, **env)
    assert code == 2
    assert f"rotate {new_id} instead" in err


async def test_expire_sets_removes_and_refuses_what_it_cannot(database_url: str) -> None:
    env = {"INVENTORY_DATABASE_URL": database_url}
    _, out, _ = await inventory("keys", "create", "--name", "n", "--role", "reader", **env)
    key_id = out.strip().split("_")[1]
    code, out, err = await inventory("keys", "expire", key_id, "--at", "2000-01-01", **env)
    assert (code, out.strip()) == (0, f"inventory: key {key_id} expires 2000-01-01 00:00 UTC (now)")
    _, listing, _ = await inventory("keys", "list", **env)
    assert rows(listing)[key_id][3:5] == ["expired", "2000-01-01 00:00 UTC"]
    code, out, _ = await inventory("keys", "expire", key_id, "--never", **env)
    assert (code, out.strip()) == (0, f"inventory: key {key_id} expires never")
    code, _, err = await inventory("keys", "expire", "nope", "--in", "1d", **env)
    assert code == 1
    assert "no key nope" in err


@pytest.mark.parametrize(
    "args",
    [
        ("create", "--name", "n", "--role", "reader", "--valid-for", "90x"),
        ("create", "--name", "n", "--role", "reader", "--expires", "30/06/2027"),
        (
            "create",
            "--name",
            "n",
            "--role",
            "reader",
            "--expires",
            "2027-06-30",
            "--valid-for",
            "1d",
        ),
        ("expire", "some-id"),
        ("rotate", "some-id", "--overlap", "-1d"),
    ],
)
async def test_a_malformed_expiry_or_duration_is_refused_before_anything_is_written(
    database_url: str, db: Database, args: tuple[str, ...]
) -> None:
    code, _, err = await inventory("keys", *args, INVENTORY_DATABASE_URL=database_url)
    assert code == 2, err
    assert await list_keys(db) == []
