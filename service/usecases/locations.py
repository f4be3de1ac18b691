"""Create, update and read locations."""

from __future__ import annotations

from service.contracts.locations import Location, LocationIn
from service.domain.errors import LocationNotFound
from service.domain.locations import validate_location
from service.storage.database import Database
from service.storage.locations import LocationRepository
from service.storage.pool import Connection


async def put_location(db: Database, location_id: str, data: LocationIn) -> tuple[Location, bool]:
    """Create or replace a location; returns it and whether it was created.

    Raises InvalidInput for a bad timezone or opening hours.
    """
    validate_location(data)

    async def work(conn: Connection) -> tuple[Location, bool]:
        return await LocationRepository(conn).upsert(location_id, data)

    return await db.run(work)


async def get_location(db: Database, location_id: str) -> Location:
    """Raises LocationNotFound."""
    async with db.connection() as conn:
        location = await LocationRepository(conn).get(location_id)
    if location is None:
        raise LocationNotFound(f"location {location_id!r} does not exist", field="location_id")
    return location


async def any_locations(db: Database) -> bool:
    async with db.connection() as conn:
        return await LocationRepository(conn).any_exist()


async def list_locations(db: Database, kind: str | None = None) -> list[Location]:
    async with db.connection() as conn:
        locations = await LocationRepository(conn).list_all()
    return [loc for loc in locations if kind is None or loc.kind == kind]
