"""Great-circle distances: known city pairs within one percent, antipodes, symmetry."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.domain.geo import EARTH_RADIUS_KM, Point, distance_km

NEW_YORK = Point(40.7128, -74.0060)
CHICAGO = Point(41.8781, -87.6298)
LOS_ANGELES = Point(34.0522, -118.2437)
LONDON = Point(51.5074, -0.1278)
PARIS = Point(48.8566, 2.3522)
SYDNEY = Point(-33.8688, 151.2093)
MELBOURNE = Point(-37.8136, 144.9631)


@pytest.mark.parametrize(
    ("a", "b", "expected_km"),
    [
        (NEW_YORK, CHICAGO, 1145.0),
        (NEW_YORK, LOS_ANGELES, 3936.0),
        (LONDON, PARIS, 343.5),
        (SYDNEY, MELBOURNE, 713.4),
    ],
    ids=["new-york-chicago", "new-york-los-angeles", "london-paris", "sydney-melbourne"],
)
def test_known_city_distances_are_within_one_percent(
    a: Point, b: Point, expected_km: float
) -> None:
    assert distance_km(a, b) == pytest.approx(expected_km, rel=0.01)


def test_antipodes_are_half_the_circumference_apart() -> None:
    half_circumference = math.pi * EARTH_RADIUS_KM
    assert distance_km(Point(0, 0), Point(0, 180)) == pytest.approx(half_circumference)
    assert distance_km(Point(90, 0), Point(-90, 0)) == pytest.approx(half_circumference)


latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)
points = st.builds(Point, latitudes, longitudes)


@given(points, points)
def test_distance_is_symmetric_and_never_negative(a: Point, b: Point) -> None:
    assert distance_km(a, b) == pytest.approx(distance_km(b, a), abs=1e-6)
    assert 0 <= distance_km(a, b) <= math.pi * EARTH_RADIUS_KM + 1e-6


@given(points)
def test_a_point_is_no_distance_from_itself(p: Point) -> None:
    assert distance_km(p, p) == 0
