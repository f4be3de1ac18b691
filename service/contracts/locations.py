"""Locations: warehouses and stores."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from service.contracts.common import AwareDatetime, Latitude, LocationId, Longitude

LocationKind = Literal["warehouse", "store"]
ClockTime = Annotated[
    str, msgspec.Meta(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$", examples=["09:00"])
]


class OpeningInterval(msgspec.Struct, forbid_unknown_fields=True):
    opens: ClockTime
    closes: ClockTime


class OpeningHours(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Local opening times per weekday (in the location's timezone); a day with no
    interval is closed. ``closed_dates`` lists holidays."""

    monday: list[OpeningInterval] = []
    tuesday: list[OpeningInterval] = []
    wednesday: list[OpeningInterval] = []
    thursday: list[OpeningInterval] = []
    friday: list[OpeningInterval] = []
    saturday: list[OpeningInterval] = []
    sunday: list[OpeningInterval] = []
    closed_dates: list[date] = []


class LocationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The body of ``PUT /v1/locations/{location_id}``."""

    kind: LocationKind
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    address: Annotated[str, msgspec.Meta(max_length=500)] = ""
    latitude: Latitude
    longitude: Longitude
    timezone: Annotated[str, msgspec.Meta(examples=["Europe/Oslo"])]
    opening_hours: OpeningHours = msgspec.field(default_factory=OpeningHours)
    pickup_offered: bool = False
    low_stock_threshold: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 3
    default_safety_stock: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 0
    active: bool = True


class Location(msgspec.Struct, kw_only=True):
    location_id: LocationId
    kind: LocationKind
    name: str
    address: str
    latitude: float
    longitude: float
    timezone: str
    opening_hours: OpeningHours
    pickup_offered: bool
    low_stock_threshold: int
    default_safety_stock: int
    active: bool
    created_at: AwareDatetime
    updated_at: AwareDatetime


class LocationList(msgspec.Struct):
    locations: list[Location]
