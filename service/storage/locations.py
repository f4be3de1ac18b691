"""The locations repository (SQL in locations.sql)."""

from __future__ import annotations

import asyncpg
import msgspec

from service.domain.locations import Location, LocationDetails, OpeningHours
from service.storage.database import note_changes
from service.storage.pool import Connection
from service.storage.sql import Queries

Q = Queries("locations.sql")


def location_from_row(row: asyncpg.Record) -> Location:
    return Location(
        location_id=row["location_id"],
        kind=row["kind"],
        name=row["name"],
        address=row["address"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        timezone=row["timezone"],
        opening_hours=msgspec.convert(row["opening_hours"], OpeningHours),
        pickup_offered=row["pickup_offered"],
        low_stock_threshold=row["low_stock_threshold"],
        default_safety_stock=row["default_safety_stock"],
        active=row["active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class LocationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def upsert(self, location_id: str, data: LocationDetails) -> tuple[Location, bool]:
        """Create or replace; returns the stored location and whether it was created."""
        row = await self.conn.fetchrow(
            Q.upsert,
            location_id,
            data.kind,
            data.name,
            data.address,
            data.latitude,
            data.longitude,
            data.timezone,
            data.opening_hours,
            data.pickup_offered,
            data.low_stock_threshold,
            data.default_safety_stock,
            data.active,
        )
        assert row is not None
        await self.notify_locations_changed(location_id)
        return location_from_row(row), bool(row["created"])

    async def notify_locations_changed(self, location_id: str) -> None:
        """Tell every replica's location directory (sent at commit), and this one's
        after commit (Database.run)."""
        await self.conn.execute(Q.notify_locations_changed, location_id)
        note_changes("locations", [location_id])

    async def get(self, location_id: str) -> Location | None:
        row = await self.conn.fetchrow(Q.get, location_id)
        return None if row is None else location_from_row(row)

    async def any_exist(self) -> bool:
        return bool(await self.conn.fetchval(Q.any_exist))

    async def list_all(self) -> list[Location]:
        return [location_from_row(r) for r in await self.conn.fetch(Q.list_all)]
