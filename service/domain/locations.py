"""Rules for locations: valid timezones and opening hours."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from service.contracts.locations import LocationIn
from service.domain.errors import InvalidInput

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def validate_location(data: LocationIn) -> None:
    """Raises InvalidInput naming the field that is wrong."""
    if data.timezone not in _timezones():
        raise InvalidInput(f"{data.timezone!r} is not an IANA timezone", field="timezone")
    ZoneInfo(data.timezone)
    for day in WEEKDAYS:
        intervals = getattr(data.opening_hours, day)
        previous_close = "00:00"
        for index, interval in enumerate(intervals):
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
