"""Pickup slots: the store's opening hours cut into slots, in its own timezone.

Slots are computed, not stored: for each local day, each opening interval is
cut into slots of ``slot_minutes`` (a last slot that would run past closing is
dropped). Local wall-clock times are converted to UTC with the store's IANA
timezone, so a daylight-saving change moves the UTC times but not the local
ones; a local time that does not exist that day (the spring-forward gap) is
skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.domain.locations import OpeningHours


@dataclass(frozen=True, slots=True)
class SlotRules:
    slot_minutes: int = 30
    capacity: int = 4
    prep_minutes: int = 120
    horizon_days: int = 7
    hold_hours: int = 72


@dataclass(frozen=True, slots=True)
class Slot:
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC

    def hold_until(self, rules: SlotRules) -> datetime:
        """When a pickup of this slot that was not collected becomes a no-show."""
        return self.ends_at + timedelta(hours=rules.hold_hours)


def _clock(day: date, text: str) -> datetime:
    """Local wall-clock ``HH:MM`` on ``day``; "24:00" is the next midnight."""
    hours, minutes = (int(part) for part in text.split(":"))
    return datetime.combine(day, time(0)) + timedelta(hours=hours, minutes=minutes)


def _utc(local: datetime, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall-clock time, or None when that time does not
    exist (the gap of a spring-forward change). In the repeated hour of a
    fall-back change the first occurrence is taken."""
    utc = local.replace(tzinfo=zone).astimezone(UTC)
    return utc if utc.astimezone(zone).replace(tzinfo=None) == local else None


def is_open_on(hours: OpeningHours, day: date) -> bool:
    return day not in hours.closed_dates and bool(hours.on_weekday(day.weekday()))


def slots_on(hours: OpeningHours, zone: ZoneInfo, day: date, slot_minutes: int) -> list[Slot]:
    """Every slot of one local day (none on a closed day)."""
    if not is_open_on(hours, day):
        return []
    found: list[Slot] = []
    step = timedelta(minutes=slot_minutes)
    for interval in hours.on_weekday(day.weekday()):
        start, end = _clock(day, interval.opens), _clock(day, interval.closes)
        while start + step <= end:
            starts_at = _utc(start, zone)
            # An end in the spring-forward gap is the moment the clock jumps.
            ends_at = (start + step).replace(tzinfo=zone).astimezone(UTC)
            if starts_at is not None and ends_at > starts_at:
                found.append(Slot(starts_at, ends_at))
            start += step
    return found


def slots_between(
    hours: OpeningHours, timezone: str, first: date, last: date, slot_minutes: int
) -> list[Slot]:
    """Every slot from local day ``first`` to ``last`` inclusive, in time order."""
    zone = ZoneInfo(timezone)
    found: list[Slot] = []
    day = first
    while day <= last:
        found.extend(slots_on(hours, zone, day, slot_minutes))
        day += timedelta(days=1)
    return found


def local_today(timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def out_of_range(starts_at: datetime, now: datetime, rules: SlotRules) -> str | None:
    """Why a slot starting then cannot be booked whatever the store's hours, or None."""
    if starts_at < now:
        return "slot_in_past"
    if starts_at > now + timedelta(days=rules.horizon_days):
        return "slot_too_far_ahead"
    return None


def bookable(slot: Slot, now: datetime, ready_at: datetime, rules: SlotRules) -> str | None:
    """Why ``slot`` cannot be booked now (a stable code), or None when it can."""
    reason = out_of_range(slot.starts_at, now, rules)
    if reason is not None:
        return reason
    if slot.starts_at < ready_at:
        return "slot_before_ready"
    return None
