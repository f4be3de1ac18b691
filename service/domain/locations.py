"""Locations: warehouses and stores, their timezone and opening hours, and the rules
for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from service.domain.errors import InvalidInput

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LocationKind = Literal["warehouse", "store"]


@dataclass(frozen=True, slots=True)
class OpeningInterval:
    opens: str  # local "HH:MM"
    closes: str  # local "HH:MM"; "24:00" is the next midnight


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningHours:
    """Local opening times per weekday; a day with no interval is closed."""

    monday: tuple[OpeningInterval, ...] = ()
    tuesday: tuple[OpeningInterval, ...] = ()
    wednesday: tuple[OpeningInterval, ...] = ()
    thursday: tuple[OpeningInterval, ...] = ()
    friday: tuple[OpeningInterval, ...] = ()
    saturday: tuple[OpeningInterval, ...] = ()
    sunday: tuple[OpeningInterval, ...] = ()
    closed_dates: tuple[date, ...] = ()  # holidays

    def on_weekday(self, weekday: int) -> tuple[OpeningInterval, ...]:
        """The intervals of a weekday (0 is Monday)."""
        intervals: tuple[OpeningInterval, ...] = getattr(self, WEEKDAYS[weekday])
        return intervals


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationDetails:
    """What is said about a location when it is created or replaced."""

    kind: LocationKind
    name: str
    address: str
    latitude: float
    longitude: float
    timezone: str  # IANA
    opening_hours: OpeningHours
    pickup_offered: bool
    low_stock_threshold: int
    default_safety_stock: int
    active: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """A stored location (held in memory by the availability read model)."""

    location_id: str
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
    created_at: datetime
    updated_at: datetime


def validate_location(details: LocationDetails) -> None:
    """Raises InvalidInput naming the field that is wrong."""
    if details.timezone not in _timezones():
        raise InvalidInput(f"{details.timezone!r} is not an IANA timezone", field="timezone")
    ZoneInfo(details.timezone)
    for weekday, day in enumerate(WEEKDAYS):
        previous_close = "00:00"
        for index, interval in enumerate(details.opening_hours.on_weekday(weekday)):
            field = f"opening_hours.{day}[{index}]"
            if interval.opens >= interval.closes:
                raise InvalidInput("a day's interval must open before it closes", field=field)
            if interval.opens < previous_close:
                raise InvalidInput(
                    "a day's intervals must be in order, not overlapping", field=field
                )
            previous_close = interval.closes


@cache
def _timezones() -> set[str]:
    try:
        return available_timezones()
    except ZoneInfoNotFoundError:  # pragma: no cover - no tz database at all
        return set()
