"""A location's timezone and opening hours are checked before it is stored."""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidInput
from service.domain.locations import validate_location
from tests.helpers import location_in


def hours(*intervals: tuple[str, str]) -> dict[str, list[dict[str, str]]]:
    return {"monday": [{"opens": o, "closes": c} for o, c in intervals]}


def test_a_location_in_an_iana_timezone_with_ordered_hours_is_valid() -> None:
    validate_location(location_in(opening_hours=hours(("08:00", "12:00"), ("13:00", "24:00"))))


def test_an_unknown_timezone_is_refused_naming_the_timezone_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_location(location_in(timezone="Europe/Atlantis"))
    assert refused.value.field == "timezone"


@pytest.mark.parametrize(("opens", "closes"), [("20:00", "09:00"), ("09:00", "09:00")])
def test_an_interval_that_does_not_open_before_it_closes_is_refused(
    opens: str, closes: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_location(location_in(opening_hours=hours((opens, closes))))
    assert refused.value.field == "opening_hours.monday[0]"


def test_overlapping_intervals_on_one_day_are_refused_naming_the_second() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_location(location_in(opening_hours=hours(("09:00", "14:00"), ("13:00", "18:00"))))
    assert refused.value.field == "opening_hours.monday[1]"


def test_intervals_out_of_order_are_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_location(location_in(opening_hours=hours(("14:00", "18:00"), ("09:00", "12:00"))))
    assert refused.value.field == "opening_hours.monday[1]"
