"""Pickup slots follow the store's opening hours in its own timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.domain.locations import OpeningHours, OpeningInterval
from service.domain.pickup_slots import (
    Slot,
    SlotRules,
    bookable,
    is_open_on,
    local_today,
    slots_between,
    slots_on,
)

OSLO = ZoneInfo("Europe/Oslo")
MONDAY = date(2026, 6, 1)  # a Monday in summer time
EVERY_DAY = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def open_every_day(*intervals: tuple[str, str], closed: list[date] | None = None) -> OpeningHours:
    hours = tuple(OpeningInterval(opens, closes) for opens, closes in intervals)
    return OpeningHours(**dict.fromkeys(EVERY_DAY, hours), closed_dates=tuple(closed or ()))


def local_starts(slots: list[Slot], zone: ZoneInfo = OSLO) -> list[str]:
    return [s.starts_at.astimezone(zone).strftime("%H:%M") for s in slots]


def test_an_opening_interval_is_cut_into_slots_of_the_slot_length() -> None:
    slots = slots_on(open_every_day(("09:00", "11:00")), OSLO, MONDAY, 30)
    assert local_starts(slots) == ["09:00", "09:30", "10:00", "10:30"]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in slots)


def test_slot_times_are_utc_instants_of_the_local_wall_clock() -> None:
    (first, *_) = slots_on(open_every_day(("09:00", "10:00")), OSLO, MONDAY, 60)
    assert first.starts_at == datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    assert first.ends_at == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert first.starts_at.utcoffset() == timedelta(0)


def test_a_lunch_break_between_two_intervals_has_no_slots() -> None:
    hours = open_every_day(("09:00", "10:00"), ("13:00", "14:00"))
    assert local_starts(slots_on(hours, OSLO, MONDAY, 30)) == ["09:00", "09:30", "13:00", "13:30"]


def test_a_last_slot_that_would_run_past_closing_is_dropped() -> None:
    slots = slots_on(open_every_day(("09:00", "10:45")), OSLO, MONDAY, 30)
    assert local_starts(slots) == ["09:00", "09:30", "10:00"]
    assert slots[-1].ends_at.astimezone(OSLO).strftime("%H:%M") == "10:30"


def test_closing_at_24_00_makes_the_last_slot_end_at_the_next_midnight() -> None:
    slots = slots_on(open_every_day(("22:00", "24:00")), OSLO, MONDAY, 30)
    assert local_starts(slots) == ["22:00", "22:30", "23:00", "23:30"]
    assert slots[-1].ends_at.astimezone(OSLO) == datetime(2026, 6, 2, 0, 0, tzinfo=OSLO)


def test_a_weekday_without_intervals_is_closed_and_has_no_slots() -> None:
    hours = OpeningHours(tuesday=(OpeningInterval("09:00", "17:00"),))
    assert not is_open_on(hours, MONDAY)
    assert slots_on(hours, OSLO, MONDAY, 30) == []
    assert is_open_on(hours, MONDAY + timedelta(days=1))
    assert len(slots_on(hours, OSLO, MONDAY + timedelta(days=1), 30)) == 16


def test_a_closed_date_has_no_slots_although_its_weekday_is_open() -> None:
    hours = open_every_day(("09:00", "17:00"), closed=[MONDAY])
    assert not is_open_on(hours, MONDAY)
    assert slots_on(hours, OSLO, MONDAY, 30) == []
    assert len(slots_on(hours, OSLO, MONDAY + timedelta(days=1), 30)) == 16


def test_slots_between_two_days_skip_closed_days_and_stay_in_time_order() -> None:
    hours = OpeningHours(
        monday=(OpeningInterval("09:00", "10:00"),),
        wednesday=(OpeningInterval("09:00", "10:00"),),
        closed_dates=(MONDAY + timedelta(days=7),),
    )
    slots = slots_between(hours, "Europe/Oslo", MONDAY, MONDAY + timedelta(days=8), 60)
    days = [s.starts_at.astimezone(OSLO).date() for s in slots]
    assert days == [MONDAY, MONDAY + timedelta(days=2)]
    assert slots == sorted(slots, key=lambda s: s.starts_at)


def test_spring_forward_keeps_local_slot_times_and_moves_the_utc_offset() -> None:
    hours = open_every_day(("09:00", "17:00"))
    before = slots_on(hours, OSLO, date(2026, 3, 28), 30)
    after = slots_on(hours, OSLO, date(2026, 3, 29), 30)
    assert local_starts(before) == local_starts(after)
    assert len(after) == 16
    assert before[0].starts_at == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # UTC+1
    assert after[0].starts_at == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # UTC+2
    assert {s.starts_at.astimezone(OSLO).utcoffset() for s in after} == {timedelta(hours=2)}


def test_fall_back_keeps_local_slot_times_and_moves_the_utc_offset() -> None:
    hours = open_every_day(("09:00", "17:00"))
    before = slots_on(hours, OSLO, date(2026, 10, 24), 30)
    after = slots_on(hours, OSLO, date(2026, 10, 25), 30)
    assert local_starts(before) == local_starts(after)
    assert before[0].starts_at == datetime(2026, 10, 24, 7, 0, tzinfo=UTC)  # UTC+2
    assert after[0].starts_at == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # UTC+1
    assert {s.starts_at.astimezone(OSLO).utcoffset() for s in after} == {timedelta(hours=1)}


def test_no_slot_starts_at_a_local_time_that_spring_forward_skips() -> None:
    slots = slots_on(open_every_day(("00:00", "24:00")), OSLO, date(2026, 3, 29), 30)
    starts = local_starts(slots)
    assert "02:00" not in starts
    assert "02:30" not in starts
    assert "03:00" in starts
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in slots)


def test_a_slot_that_ends_where_spring_forward_skips_the_clock_is_still_offered() -> None:
    # On 2026-03-29 Oslo's clocks jump from 02:00 to 03:00. A store open all night
    # is open from 01:30 CET until the jump, which is 03:00 CEST: 00:30-01:00 UTC.
    slots = slots_on(open_every_day(("00:00", "24:00")), OSLO, date(2026, 3, 29), 30)
    spans = {(s.starts_at, s.ends_at) for s in slots}
    assert (
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    ) in spans


def test_the_repeated_hour_of_fall_back_offers_each_local_start_once() -> None:
    slots = slots_on(open_every_day(("00:00", "24:00")), OSLO, date(2026, 10, 25), 30)
    starts = local_starts(slots)
    assert starts.count("02:00") == 1
    assert starts.count("02:30") == 1
    assert len({s.starts_at for s in slots}) == len(slots)


def test_local_today_is_the_date_on_the_stores_wall_clock() -> None:
    late_evening_utc = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    assert local_today("Europe/Oslo", late_evening_utc) == date(2026, 6, 2)
    assert local_today("America/New_York", late_evening_utc) == date(2026, 6, 1)


# ------------------------------------------------------------------ bookable

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
RULES = SlotRules(slot_minutes=30, capacity=4, prep_minutes=60, horizon_days=7, hold_hours=72)


def slot_at(starts_at: datetime) -> Slot:
    return Slot(starts_at, starts_at + timedelta(minutes=30))


def test_a_future_slot_after_the_ready_time_within_the_horizon_is_bookable() -> None:
    assert bookable(slot_at(NOW + timedelta(hours=2)), NOW, NOW + timedelta(hours=1), RULES) is None


def test_a_slot_that_starts_exactly_when_the_cart_is_ready_is_bookable() -> None:
    ready = NOW + timedelta(hours=1)
    assert bookable(slot_at(ready), NOW, ready, RULES) is None


def test_a_slot_that_already_started_is_in_the_past() -> None:
    slot = slot_at(NOW - timedelta(minutes=1))
    assert bookable(slot, NOW, NOW, RULES) == "slot_in_past"


def test_a_slot_beyond_the_horizon_is_too_far_ahead() -> None:
    slot = slot_at(NOW + timedelta(days=7, minutes=1))
    assert bookable(slot, NOW, NOW, RULES) == "slot_too_far_ahead"
    assert bookable(slot_at(NOW + timedelta(days=7)), NOW, NOW, RULES) is None


def test_a_slot_before_the_cart_can_be_ready_is_refused_as_before_ready() -> None:
    slot = slot_at(NOW + timedelta(minutes=30))
    assert bookable(slot, NOW, NOW + timedelta(hours=1), RULES) == "slot_before_ready"


def test_a_slot_holds_an_uncollected_pickup_for_the_hold_period_after_it_ends() -> None:
    slot = slot_at(NOW)
    assert slot.hold_until(RULES) == NOW + timedelta(minutes=30) + timedelta(hours=72)
