"""Create, update and read locations; a location's wire form and its domain value are
converted here, one function each way."""

from __future__ import annotations

from service.contracts import locations as wire
from service.domain.errors import LocationNotFound
from service.domain.locations import (
    Location,
    LocationDetails,
    OpeningHours,
    OpeningInterval,
    validate_location,
)
from service.storage.database import Database
from service.storage.locations import LocationRepository
from service.storage.pool import Connection


async def put_location(
    db: Database, location_id: str, data: wire.LocationIn
) -> tuple[wire.Location, bool]:
    """Create or replace a location; returns it and whether it was created.

    Raises InvalidInput for a bad timezone or opening hours.
    """
    details = location_details(data)
    validate_location(details)

    async def work(conn: Connection) -> tuple[Location, bool]:
        return await LocationRepository(conn).upsert(location_id, details)

    location, created = await db.run(work)
    return location_view(location), created


async def get_location(db: Database, location_id: str) -> wire.Location:
    """Raises LocationNotFound."""
    async with db.connection() as conn:
        location = await LocationRepository(conn).get(location_id)
    if location is None:
        raise LocationNotFound(f"location {location_id!r} does not exist", field="location_id")
    return location_view(location)


async def any_locations(db: Database) -> bool:
    async with db.connection() as conn:
        return await LocationRepository(conn).any_exist()


async def list_locations(db: Database, kind: str | None = None) -> list[wire.Location]:
    async with db.connection() as conn:
        locations = await LocationRepository(conn).list_all()
    return [location_view(loc) for loc in locations if kind is None or loc.kind == kind]


def location_details(data: wire.LocationIn) -> LocationDetails:
    hours = data.opening_hours
    return LocationDetails(
        kind=data.kind,
        name=data.name,
        address=data.address,
        latitude=data.latitude,
        longitude=data.longitude,
        timezone=data.timezone,
        opening_hours=OpeningHours(
            monday=_intervals(hours.monday),
            tuesday=_intervals(hours.tuesday),
            wednesday=_intervals(hours.wednesday),
            thursday=_intervals(hours.thursday),
            friday=_intervals(hours.friday),
            saturday=_intervals(hours.saturday),
            sunday=_intervals(hours.sunday),
            closed_dates=tuple(hours.closed_dates),
        ),
        pickup_offered=data.pickup_offered,
        low_stock_threshold=data.low_stock_threshold,
        default_safety_stock=data.default_safety_stock,
        active=data.active,
    )


def _intervals(day: list[wire.OpeningInterval]) -> tuple[OpeningInterval, ...]:
    return tuple(OpeningInterval(x.opens, x.closes) for x in day)


def location_view(location: Location) -> wire.Location:
    hours = location.opening_hours
    return wire.Location(
        location_id=location.location_id,
        kind=location.kind,
        name=location.name,
        address=location.address,
        latitude=location.latitude,
        longitude=location.longitude,
        timezone=location.timezone,
        opening_hours=wire.OpeningHours(
            monday=_interval_views(hours.monday),
            tuesday=_interval_views(hours.tuesday),
            wednesday=_interval_views(hours.wednesday),
            thursday=_interval_views(hours.thursday),
            friday=_interval_views(hours.friday),
            saturday=_interval_views(hours.saturday),
            sunday=_interval_views(hours.sunday),
            closed_dates=list(hours.closed_dates),
        ),
        pickup_offered=location.pickup_offered,
        low_stock_threshold=location.low_stock_threshold,
        default_safety_stock=location.default_safety_stock,
        active=location.active,
        created_at=location.created_at,
        updated_at=location.updated_at,
    )


def _interval_views(day: tuple[OpeningInterval, ...]) -> list[wire.OpeningInterval]:
    return [wire.OpeningInterval(x.opens, x.closes) for x in day]
