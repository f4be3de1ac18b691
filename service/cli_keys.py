"""``inventory keys``: create, list and revoke API keys, and the demo keys."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

from service.settings import Settings
from service.storage.database import Database
from service.storage.pool import create_pool

Runner = Callable[[Awaitable[int]], int]


def add_key_commands(commands: Any, run: Runner) -> None:
    """The ``keys`` subcommands, on ``commands`` (the CLI's subparsers)."""
    keys = commands.add_parser("keys", help="create, list and revoke API keys")
    key_commands = keys.add_subparsers(required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="create a key and print it (shown once)")
    create.add_argument("--name", required=True, help="who uses it, e.g. 'webshop prod'")
    create.add_argument(
        "--role", required=True, choices=["reader", "webshop", "integration", "staff", "admin"]
    )
    create.add_argument(
        "--location",
        action="append",
        default=[],
        help="a location a staff key may act at (repeatable)",
    )
    create.set_defaults(handler=lambda s, a: run(_keys_create(s, a.name, a.role, a.location)))
    listing = key_commands.add_parser("list", help="list keys (never their secrets)")
    listing.set_defaults(handler=lambda s, a: run(_keys_list(s)))
    revoke = key_commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=lambda s, a: run(_keys_revoke(s, a.key_id)))
    demo = key_commands.add_parser(
        "demo", help="create and print one demo key per role (development only)"
    )
    demo.set_defaults(handler=lambda s, a: run(_keys_demo(s)))


async def with_db(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        return await work(Database(pool))
    finally:
        await pool.close()


async def _keys_create(settings: Settings, name: str, role: str, locations: list[str]) -> int:
    from service.domain.errors import DomainError
    from service.usecases.keys import create_key

    async def work(db: Database) -> int:
        try:
            token = await create_key(db, name, role, locations)
        except DomainError as exc:
            print(f"inventory: {exc.field}: {exc.detail}", file=sys.stderr)
            return 2
        print(token)
        print("inventory: key created; it is shown only now", file=sys.stderr)
        return 0

    return await with_db(settings, work)


async def _keys_list(settings: Settings) -> int:
    from service.usecases.keys import list_keys

    async def work(db: Database) -> int:
        for key in await list_keys(db):
            p = key.principal
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            where = ",".join(sorted(p.location_ids)) or "-"
            print(f"{p.key_id}\t{p.role}\t{where}\t{state}\t{p.name}")
        return 0

    return await with_db(settings, work)


async def _keys_revoke(settings: Settings, key_id: str) -> int:
    from service.usecases.keys import revoke_key

    async def work(db: Database) -> int:
        if await revoke_key(db, key_id):
            print(f"inventory: key {key_id} revoked")
            return 0
        print(f"inventory: no active key {key_id}", file=sys.stderr)
        return 1

    return await with_db(settings, work)


async def _keys_demo(settings: Settings) -> int:
    from service.demo import ensure_demo_keys

    if settings.environment == "production":
        print("inventory: demo keys are refused in production", file=sys.stderr)
        return 2

    async def work(db: Database) -> int:
        print("inventory: demo API keys (development only):")
        for name, role, token in await ensure_demo_keys(db):
            print(f"  {role:<12} {token}   ({name})")
        return 0

    return await with_db(settings, work)
