"""``inventory keys``: create, list, revoke, expire and rotate API keys, and the demo keys."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from service.domain.api_keys import DEFAULT_OVERLAP
from service.settings import Settings
from service.storage.database import Database
from service.storage.pool import create_pool

Runner = Callable[[Awaitable[int]], int]
_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def add_key_commands(commands: Any, run: Runner) -> None:
    """The ``keys`` subcommands, on ``commands`` (the CLI's subparsers)."""
    keys = commands.add_parser("keys", help="create, list, revoke, expire and rotate API keys")
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
    _lifetime_options(create)
    create.set_defaults(
        handler=lambda s, a: run(_keys_create(s, a.name, a.role, a.location, _expiry(a)))
    )
    listing = key_commands.add_parser("list", help="list keys (never their secrets)")
    listing.set_defaults(handler=lambda s, a: run(_keys_list(s)))
    revoke = key_commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=lambda s, a: run(_keys_revoke(s, a.key_id)))
    _add_expire(key_commands, run)
    _add_rotate(key_commands, run)
    demo = key_commands.add_parser(
        "demo", help="create and print one demo key per role (development only)"
    )
    demo.set_defaults(handler=lambda s, a: run(_keys_demo(s)))


def _add_expire(key_commands: Any, run: Runner) -> None:
    expire = key_commands.add_parser(
        "expire", help="set when a key stops working (or --never); every replica hears it at once"
    )
    expire.add_argument("key_id")
    when = expire.add_mutually_exclusive_group(required=True)
    when.add_argument("--at", type=instant, metavar="WHEN", help="a date (00:00 UTC) or a time")
    when.add_argument("--in", dest="within", type=duration, metavar="DURATION", help="e.g. 30d")
    when.add_argument("--never", action="store_true", help="remove the expiry")
    expire.set_defaults(handler=lambda s, a: run(_keys_expire(s, a.key_id, _new_expiry(a))))


def _add_rotate(key_commands: Any, run: Runner) -> None:
    rotate = key_commands.add_parser(
        "rotate",
        help="issue a successor (same name, role, stores; printed once); the old key works "
        "until the overlap ends",
    )
    rotate.add_argument("key_id")
    rotate.add_argument(
        "--overlap",
        type=duration,
        default=DEFAULT_OVERLAP,
        metavar="DURATION",
        help="how long the old key keeps working (default 7d)",
    )
    _lifetime_options(rotate, whose="the new key")
    rotate.set_defaults(handler=lambda s, a: run(_keys_rotate(s, a.key_id, a.overlap, _expiry(a))))


def _lifetime_options(parser: argparse.ArgumentParser, whose: str = "the key") -> None:
    lifetime = parser.add_mutually_exclusive_group()
    lifetime.add_argument(
        "--expires",
        type=instant,
        metavar="WHEN",
        help=f"when {whose} stops working: a date (00:00 UTC that day) or an ISO time",
    )
    lifetime.add_argument(
        "--valid-for",
        type=duration,
        metavar="DURATION",
        help=f"how long {whose} works from now, e.g. 90d, 12h, 2w (default: no expiry)",
    )


def duration(text: str) -> timedelta:
    """``90d``, ``12h``, ``30m``, ``2w``."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r}: a duration is a number and m, h, d or w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def instant(text: str) -> datetime:
    """``2027-06-30`` (00:00 UTC that day) or an ISO time (UTC unless it has an offset)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a date (2027-06-30) or a time (2027-06-30T12:00+02:00)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _expiry(args: argparse.Namespace) -> datetime | None:
    """--expires or --valid-for (from now), else no expiry."""
    if args.valid_for is not None:
        valid_for: timedelta = args.valid_for
        return datetime.now(UTC) + valid_for
    expires: datetime | None = args.expires
    return expires


def _new_expiry(args: argparse.Namespace) -> datetime | None:
    """--at, --in (from now) or --never (None)."""
    if args.never:
        return None
    if args.within is not None:
        within: timedelta = args.within
        return datetime.now(UTC) + within
    at: datetime = args.at
    return at


def shown(moment: datetime | None) -> str:
    return "never" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


async def with_db(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    pool = await create_pool(
        settings.database_url,
        min_size=1,
        max_size=2,
        connect_timeout_s=settings.db_connect_timeout_s,
        statement_timeout_s=settings.verify_timeout_s,  # verify-ledger scans every balance
    )
    try:
        return await work(Database(pool, deadline_s=settings.verify_timeout_s))
    finally:
        await pool.close()


async def _keys_create(
    settings: Settings, name: str, role: str, locations: list[str], expires: datetime | None
) -> int:
    from service.domain.errors import DomainError
    from service.usecases.keys import create_key

    async def work(db: Database) -> int:
        try:
            token = await create_key(db, name, role, locations, expires)
        except DomainError as exc:
            print(f"inventory: {exc.field}: {exc.detail}", file=sys.stderr)
            return 2
        print(token)
        print(
            f"inventory: key created (expires: {shown(expires)}); it is shown only now",
            file=sys.stderr,
        )
        return 0

    return await with_db(settings, work)


async def _keys_list(settings: Settings) -> int:
    from service.usecases.keys import list_keys

    async def work(db: Database) -> int:
        now = datetime.now(UTC)
        print("KEY_ID\tROLE\tSTORES\tSTATE\tEXPIRES\tREPLACES\tNAME")
        for key in await list_keys(db):
            p = key.principal
            state: str = key.state_at(now)
            if key.revoked_at is not None:
                state += f" {key.revoked_at:%Y-%m-%d %H:%M}"
            where = ",".join(sorted(p.location_ids)) or "-"
            replaces = key.replaces_key_id or "-"
            print(
                f"{p.key_id}\t{p.role}\t{where}\t{state}\t{shown(key.expires_at)}\t"
                f"{replaces}\t{p.name}"
            )
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


async def _keys_expire(settings: Settings, key_id: str, expires: datetime | None) -> int:
    from service.usecases.keys import set_key_expiry

    async def work(db: Database) -> int:
        if not await set_key_expiry(db, key_id, expires):
            print(f"inventory: no key {key_id}, or it is revoked", file=sys.stderr)
            return 1
        past = expires is not None and expires <= datetime.now(UTC)
        print(f"inventory: key {key_id} expires {shown(expires)}" + (" (now)" if past else ""))
        return 0

    return await with_db(settings, work)


async def _keys_rotate(
    settings: Settings, key_id: str, overlap: timedelta, expires: datetime | None
) -> int:
    from service.domain.api_keys import KeyNotFound
    from service.domain.errors import DomainError
    from service.usecases.keys import rotate_key

    async def work(db: Database) -> int:
        try:
            rotation = await rotate_key(db, key_id, overlap, expires)
        except DomainError as exc:
            print(f"inventory: {exc.field}: {exc.detail}", file=sys.stderr)
            return 1 if isinstance(exc, KeyNotFound) else 2
        print(rotation.token)
        print(
            f"inventory: key {rotation.key_id} replaces {key_id} (same name, role and stores; "
            f"expires: {shown(expires)}); it is shown only now\n"
            f"inventory: the old key {key_id} works until {shown(rotation.old_expires_at)}",
            file=sys.stderr,
        )
        return 0

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
