"""An API key's lifetime, and how the ``keys`` command reads expiries and durations."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta, timezone

import pytest

from service.cli_keys import duration, instant
from service.domain.api_keys import check_new_expiry, end_of_overlap, key_state
from service.domain.errors import InvalidInput

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_a_key_is_active_until_the_instant_of_its_expiry() -> None:
    assert key_state(None, None, NOW) == "active"
    assert key_state(None, NOW + timedelta(microseconds=1), NOW) == "active"
    assert key_state(None, NOW, NOW) == "expired"


def test_revocation_wins_over_any_expiry() -> None:
    assert key_state(NOW, NOW + timedelta(days=1), NOW) == "revoked"
    assert key_state(NOW, NOW - timedelta(days=1), NOW) == "revoked"


def test_a_new_key_must_expire_in_the_future() -> None:
    check_new_expiry(None, NOW)
    check_new_expiry(NOW + timedelta(seconds=1), NOW)
    with pytest.raises(InvalidInput):
        check_new_expiry(NOW, NOW)


def test_the_overlap_ends_the_old_key_but_never_lengthens_its_life() -> None:
    week = timedelta(days=7)
    assert end_of_overlap(None, NOW, week) == NOW + week
    assert end_of_overlap(NOW + timedelta(days=30), NOW, week) == NOW + week
    assert end_of_overlap(NOW + timedelta(days=1), NOW, week) == NOW + timedelta(days=1)
    assert end_of_overlap(None, NOW, timedelta(0)) == NOW
    with pytest.raises(InvalidInput):
        end_of_overlap(None, NOW, -week)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", timedelta(days=90)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("2w", timedelta(weeks=2)),
        ("0d", timedelta(0)),
    ],
)
def test_durations_are_a_number_and_a_unit(text: str, expected: timedelta) -> None:
    assert duration(text) == expected


@pytest.mark.parametrize("text", ["90", "d", "1.5d", "-1d", "90 days", "1y"])
def test_other_durations_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        duration(text)


def test_a_date_means_midnight_utc_and_a_time_without_offset_means_utc() -> None:
    assert instant("2027-06-30") == datetime(2027, 6, 30, tzinfo=UTC)
    assert instant("2027-06-30T12:00") == datetime(2027, 6, 30, 12, tzinfo=UTC)
    oslo_summer = timezone(timedelta(hours=2))
    assert instant("2027-06-30T12:00+02:00") == datetime(2027, 6, 30, 12, tzinfo=oslo_summer)


@pytest.mark.parametrize("text", ["30/06/2027", "2027-13-01", "tomorrow", ""])
def test_other_instants_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        instant(text)
