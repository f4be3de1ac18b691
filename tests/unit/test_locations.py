"""A location's timezone and opening hours are checked before it is stored."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

from service.contracts import locations as wire
from service.domain.errors import InvalidInput
from service.domain.locations import Location, LocationDetails, validate_location
from service.usecases.locations import location_details, location_view
from tests.helpers import location_in


def details(**overrides: Any) -> LocationDetails:
    return location_details(location_in(**overrides))


WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def hours(*intervals: tuple[str, str]) -> dict[str, list[dict[str, str]]]:
    return {"monday": [{"opens": o, "closes": c} for o, c in intervals]}


def test_a_location_in_an_iana_timezone_with_ordered_hours_is_valid() -> None:
    validate_location(details(opening_hours=hours(("08:00", "12:00"), ("13:00", "24:00"))))


def test_an_unknown_timezone_is_refused_naming_the_timezone_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_location(details(timezone="Europe/Atlantis"))
    assert refused.value.field == "timezone"


@pytest.mark.parametrize(("opens", "closes"), [("20:00", "09:00"), ("09:00", "09:00")])
def test_an_interval_that_does_not_open_before_it_closes_is_refused(
    opens: str, closes: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_location(details(opening_hours=hours((opens, closes))))
    assert refused.value.field == "opening_hours.monday[0]"


def test_overlapping_intervals_on_one_day_are_refused_naming_the_second() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_location(details(opening_hours=hours(("09:00", "14:00"), ("13:00", "18:00"))))
    assert refused.value.field == "opening_hours.monday[1]"


def test_intervals_out_of_order_are_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_location(details(opening_hours=hours(("14:00", "18:00"), ("09:00", "12:00"))))
    assert refused.value.field == "opening_hours.monday[1]"


def test_a_location_comes_back_out_of_the_domain_as_it_went_in() -> None:
    hours = wire.OpeningHours(
        monday=[wire.OpeningInterval("08:00", "12:00"), wire.OpeningInterval("13:00", "24:00")],
        sunday=[wire.OpeningInterval("10:00", "14:00")],
        closed_dates=[date(2026, 12, 25), date(2026, 12, 24)],
    )
    sent = msgspec.structs.replace(location_in(), opening_hours=hours)
    inside = location_details(sent)
    stored = Location(location_id="ST-A", created_at=WHEN, updated_at=WHEN, **_fields(inside))
    expected = wire.Location(
        location_id="ST-A", created_at=WHEN, updated_at=WHEN, **msgspec.structs.asdict(sent)
    )
    assert msgspec.json.encode(location_view(stored)) == msgspec.json.encode(expected)


def _fields(value: LocationDetails) -> dict[str, Any]:
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
