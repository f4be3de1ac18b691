"""API keys: create, list, revoke, expire, rotate (the ``inventory keys`` command)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from service.domain.access import ROLES, Role
from service.domain.api_keys import (
    KeyAlreadyRotated,
    KeyNotFound,
    check_new_expiry,
    end_of_overlap,
)
from service.domain.errors import InvalidInput, UnknownLocation
from service.storage.api_keys import ApiKeyRepository, StoredKey, new_key
from service.storage.database import Database
from service.storage.ledger import LedgerRepository
from service.storage.pool import Connection
from service.storage.staff_sessions import StaffSessionRepository


@dataclass(frozen=True, slots=True)
class Rotation:
    """A rotated key: the successor's token (shown once) and id, and when the old key ends."""

    token: str
    key_id: str
    old_key_id: str
    old_expires_at: datetime


async def create_key(
    db: Database,
    name: str,
    role: str,
    location_ids: list[str],
    expires_at: datetime | None = None,
    *,
    now: datetime | None = None,
) -> str:
    """Create a key and return its token (shown once); ``expires_at`` None: it never
    expires. Raises InvalidInput, UnknownLocation."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if role == "staff" and not location_ids:
        raise InvalidInput("a staff key names at least one location", field="location")
    if role != "staff" and location_ids:
        raise InvalidInput("only staff keys are limited to locations", field="location")
    check_new_expiry(expires_at, now or datetime.now(UTC))
    key_id, secret, token = new_key()
    valid_role: Role = role

    async def work(conn: Connection) -> str:
        known = await LedgerRepository(conn).existing_locations(location_ids)
        for location_id in location_ids:
            if location_id not in known:
                raise UnknownLocation(f"location {location_id!r} does not exist", field="location")
        await ApiKeyRepository(conn).insert(
            key_id, name, valid_role, sorted(set(location_ids)), secret, expires_at=expires_at
        )
        return token

    return await db.run(work)


async def ensure_keys(db: Database, keys: list[tuple[str, str, Role, list[str], str]]) -> None:
    """Create (key_id, name, role, locations, secret) keys that do not exist yet."""

    async def work(conn: Connection) -> None:
        repo = ApiKeyRepository(conn)
        for key_id, name, role, locations, secret in keys:
            await repo.insert(key_id, name, role, locations, secret)

    await db.run(work)


async def list_keys(db: Database) -> list[StoredKey]:
    async with db.connection() as conn:
        return await ApiKeyRepository(conn).list_all()


async def revoke_key(db: Database, key_id: str) -> bool:
    """True when a live key was revoked (every replica forgets it at once); the staff
    page's sessions opened with it end with it."""

    async def work(conn: Connection) -> bool:
        await StaffSessionRepository(conn).delete_of_key(key_id)
        return await ApiKeyRepository(conn).revoke(key_id)

    return await db.run(work)


async def set_key_expiry(db: Database, key_id: str, expires_at: datetime | None) -> bool:
    """Give a key a new expiry (None: never; a past instant refuses it from now on).
    Every replica hears it at once. False when there is no such key or it is revoked."""

    async def work(conn: Connection) -> bool:
        return await ApiKeyRepository(conn).set_expiry(key_id, expires_at)

    return await db.run(work)


async def rotate_key(
    db: Database,
    key_id: str,
    overlap: timedelta,
    expires_at: datetime | None = None,
    *,
    now: datetime | None = None,
) -> Rotation:
    """Issue a successor of an active key (same name, role and stores; expiring at
    ``expires_at``, None: never) and let the old key work until the end of ``overlap``.

    The old key's row is locked first, so two rotations of one key queue up and the
    second finds the first's successor. Raises KeyNotFound (no such active key),
    KeyAlreadyRotated (it has an active successor: rotate that one), InvalidInput."""
    at = now or datetime.now(UTC)
    check_new_expiry(expires_at, at)
    new_id, secret, token = new_key()

    async def work(conn: Connection) -> Rotation:
        repo = ApiKeyRepository(conn)
        old = await repo.lock(key_id)
        if old is None or old.state_at(at) != "active":
            raise KeyNotFound(f"no active key {key_id}", field="key_id")
        successor = await repo.live_successor(key_id, at)
        if successor is not None:
            raise KeyAlreadyRotated(
                f"key {key_id} was already rotated to {successor}; rotate {successor} instead",
                field="key_id",
            )
        p = old.principal
        await repo.insert(
            new_id,
            p.name,
            p.role,
            sorted(p.location_ids),
            secret,
            expires_at=expires_at,
            replaces_key_id=key_id,
        )
        old_expires_at = end_of_overlap(old.expires_at, at, overlap)
        await repo.set_expiry(key_id, old_expires_at)
        return Rotation(token, new_id, key_id, old_expires_at)

    return await db.run(work)
