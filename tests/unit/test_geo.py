"""Great-circle distances between real places."""

from __future__ import annotations

import pytest

from service.domain.geo import distance_km

OSLO = (59.9139, 10.7522)
BERGEN = (60.3913, 5.3221)
STOCKHOLM = (59.3293, 18.0686)
COPENHAGEN = (55.6761, 12.5683)


@pytest.mark.parametrize(("there", "km"), [(BERGEN, 305), (STOCKHOLM, 416), (COPENHAGEN, 483)])
def test_distances_from_oslo_match_the_known_figures_within_two_km(
    there: tuple[float, float], km: float
) -> None:
    assert distance_km(*OSLO, *there) == pytest.approx(km, abs=2)


def test_the_distance_is_the_same_in_both_directions() -> None:
    assert distance_km(*OSLO, *BERGEN) == pytest.approx(distance_km(*BERGEN, *OSLO))


def test_a_place_is_zero_km_from_itself() -> None:
    assert distance_km(*OSLO, *OSLO) == 0


def test_antipodal_points_are_half_the_earth_apart() -> None:
    assert distance_km(0, 0, 0, 180) == pytest.approx(20015, abs=5)
