"""GeoNames parsing and the prefix fallback, without a database."""

from __future__ import annotations

import pytest

from models.domain.geo import Point, distance_km
from models.services.import_geodata import SWEDEN, PostalCodeRow, parse_geonames
from models.store.geodata import closest_sharing_prefix, nearest_us_zip

MALMO = "SE\t211 19\tMalmö\tSkåne\t12\tMalmö\t1280\t\t\t55.6059\t13.0007\t4\n"
NO_COORDINATES = "SE\t343 30\tÄlmhult\tKronoberg\t07\tÄlmhult\t0765\t\t\t\t\t\n"
HICKSVILLE = Point(40.7684, -73.5251)


def test_a_good_row_becomes_a_located_code_without_its_space() -> None:
    rows = list(parse_geonames([MALMO]))

    assert rows == [PostalCodeRow("SE", "21119", "Malmö", 55.6059, 13.0007)]


def test_a_row_without_its_last_empty_field_still_parses() -> None:
    rows = list(parse_geonames(["DE\t01067\tDresden\t\t\t\t\t\t\t51.0557\t13.7216"]))

    assert rows == [PostalCodeRow("DE", "01067", "Dresden", 51.0557, 13.7216)]


def test_rows_without_coordinates_and_blank_lines_are_skipped() -> None:
    rows = list(parse_geonames([NO_COORDINATES, "\n", MALMO, "\r\n"]))

    assert [row.postal_code for row in rows] == ["21119"]


@pytest.mark.parametrize(
    ("bad_line", "complaint"),
    [
        ("SE\t211 19\tMalmö\n", "expected 12 tab-separated fields"),
        (MALMO.replace("55.6059", "north"), "coordinates 'north'"),
        (MALMO.replace("55.6059", "95.0"), "coordinates '95.0'"),
        (MALMO.replace("SE", "Sweden", 1), "country code 'Sweden'"),
        (MALMO.replace("211 19", " "), "postal code ' '"),
    ],
)
def test_a_malformed_row_is_refused_naming_its_line(bad_line: str, complaint: str) -> None:
    with pytest.raises(ValueError, match="line 3") as refused:
        list(parse_geonames([MALMO, NO_COORDINATES, bad_line]))

    assert complaint in str(refused.value)


def test_the_shipped_swedish_file_parses_with_a_located_row_for_every_line() -> None:
    lines = SWEDEN.read_text(encoding="utf-8").splitlines()

    rows = list(parse_geonames(lines))

    assert len(rows) == len(lines) >= 60
    assert {"21119", "25225", "34330", "11120", "41103", "22220", "35230", "55315"} <= {
        row.postal_code for row in rows
    }
    assert all(55 < row.latitude < 69 and 10 < row.longitude < 25 for row in rows)


def test_the_longest_shared_prefix_wins_over_a_nearer_number() -> None:
    assert closest_sharing_prefix("21199", ["21156", "21201"], 2) == "21156"


def test_between_codes_sharing_as_much_the_numerically_nearest_wins() -> None:
    assert closest_sharing_prefix("21150", ["21149", "21160"], 2) == "21149"
    assert closest_sharing_prefix("21158", ["21149", "21160"], 2) == "21160"


def test_letters_are_compared_at_the_first_character_that_differs() -> None:
    assert closest_sharing_prefix("SW1A", ["SW1B", "SW1Z"], 2) == "SW1B"


def test_a_code_sharing_less_than_the_minimum_prefix_is_not_a_match() -> None:
    assert closest_sharing_prefix("99999", ["98131"], 2) is None
    assert closest_sharing_prefix("21199", [], 2) is None


def test_a_zip_the_package_has_no_coordinates_for_lands_on_its_neighbour() -> None:
    # 11805 (Hicksville, NY) is listed with 0, 0 by the zipcodes package.
    found = nearest_us_zip("11805")

    assert found is not None
    assert not found.exact
    assert found.postal_code_used.startswith("1180")
    assert distance_km(found.point, HICKSVILLE) < 10


def test_an_unknown_manhattan_zip_lands_in_manhattan() -> None:
    found = nearest_us_zip("10000")

    assert found is not None
    assert found.postal_code_used == "10001"
    assert distance_km(found.point, Point(40.7484, -73.9967)) < 1


@pytest.mark.parametrize("zip_code", ["00000", "09001"])
def test_a_zip_without_a_located_neighbour_in_its_region_is_not_located(zip_code: str) -> None:
    assert nearest_us_zip(zip_code) is None
