"""API keys: create, list, revoke (the ``inventory keys`` command)."""

from __future__ import annotations

from service.domain.access import ROLES, Role
from service.domain.errors import InvalidInput, UnknownLocation
from service.storage.api_keys import ApiKeyRepository, StoredKey, new_key
from service.storage.database import Database
from service.storage.ledger import LedgerRepository
from service.storage.pool import Connection
from service.storage.staff_sessions import StaffSessionRepository


async def create_key(db: Database, name: str, role: str, location_ids: list[str]) -> str:
    """Create a key and return its token (shown once). Raises InvalidInput, UnknownLocation."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if role == "staff" and not location_ids:
        raise InvalidInput("a staff key names at least one location", field="location")
    if role != "staff" and location_ids:
        raise InvalidInput("only staff keys are limited to locations", field="location")
    key_id, secret, token = new_key()
    valid_role: Role = role

    async def work(conn: Connection) -> str:
        known = await LedgerRepository(conn).existing_locations(location_ids)
        for location_id in location_ids:
            if location_id not in known:
                raise UnknownLocation(f"location {location_id!r} does not exist", field="location")
        await ApiKeyRepository(conn).insert(
            key_id, name, valid_role, sorted(set(location_ids)), secret
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
