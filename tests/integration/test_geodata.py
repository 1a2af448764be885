"""Importing GeoNames files and locating postal codes against real PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from devstack.seed import seed
from intake.geodata_import import main
from models.domain.geo import Point, distance_km
from models.services.import_geodata import SWEDEN, import_file, import_geonames
from models.store.geodata import locate, locate_with_source
from models.tables.catalog import PostalCode
from settings import Settings

MALMO = Point(55.605, 13.000)


@pytest.fixture
def sweden(sessions: sessionmaker[Session]) -> int:
    """The shipped Swedish file, imported (an upsert, so every test may do it)."""
    with sessions() as session, session.begin():
        return import_file(session, SWEDEN)


def swedish_rows(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        count = select(func.count()).where(PostalCode.country == "SE")
        return session.scalar(count) or 0


def made_up_line(code: str, place: str, latitude: float, longitude: float) -> str:
    """A GeoNames line in the made-up country ZZ, so no other test sees it."""
    return f"ZZ\t{code}\t{place}\t\t\t\t\t\t\t{latitude}\t{longitude}\t4\n"


@pytest.mark.parametrize(
    ("postal_code", "place", "within_km"),
    [
        ("211 19", MALMO, 15),
        ("343 30", Point(56.551, 14.137), 10),
        ("252 25", Point(56.046, 12.694), 10),
    ],
)
def test_a_swedish_code_is_located_in_its_town(
    sessions: sessionmaker[Session], sweden: int, postal_code: str, place: Point, within_km: float
) -> None:
    with sessions() as session:
        point = locate(session, "SE", postal_code)

    assert point is not None
    assert distance_km(point, place) < within_km


def test_an_unknown_malmo_code_falls_back_to_a_malmo_code(
    sessions: sessionmaker[Session], sweden: int
) -> None:
    with sessions() as session:
        found = locate_with_source(session, "SE", "21199")

    assert found is not None
    assert not found.exact
    assert found.postal_code_used.startswith("211")
    assert distance_km(found.point, MALMO) < 15


def test_a_code_sharing_no_prefix_with_a_known_one_is_not_located(
    sessions: sessionmaker[Session], sweden: int
) -> None:
    with sessions() as session:
        assert locate(session, "SE", "99999") is None


def test_importing_the_swedish_file_again_changes_nothing(
    sessions: sessionmaker[Session], sweden: int
) -> None:
    before = swedish_rows(sessions)

    with sessions() as session, session.begin():
        again = import_file(session, SWEDEN)

    assert again == sweden >= 60
    assert swedish_rows(sessions) == before


def test_a_zip_the_package_cannot_place_is_located_by_its_neighbour(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        point = locate(session, "US", "11805")

    assert point is not None
    assert distance_km(point, Point(40.7684, -73.5251)) < 10


def test_a_code_imported_again_takes_its_new_coordinates(sessions: sessionmaker[Session]) -> None:
    code = f"M{uuid.uuid4().hex[:10].upper()}"
    with sessions() as session, session.begin():
        import_geonames(session, [made_up_line(code, "Old", 10.0, 20.0)])
    with sessions() as session, session.begin():
        import_geonames(session, [made_up_line(code, "New", 11.0, 21.0)])

    with sessions() as session:
        found = locate_with_source(session, "ZZ", code)
        row = session.get(PostalCode, ("ZZ", code))

    assert found is not None
    assert (found.point, found.exact, row and row.place_name) == (Point(11.0, 21.0), True, "New")


def test_a_code_listed_for_several_places_keeps_the_first(sessions: sessionmaker[Session]) -> None:
    code = f"D{uuid.uuid4().hex[:10].upper()}"
    lines = [made_up_line(code, "Main", 1.0, 2.0), made_up_line(code, "Village", 3.0, 4.0)]

    with sessions() as session, session.begin():
        imported = import_geonames(session, lines)
    with sessions() as session:
        row = session.get(PostalCode, ("ZZ", code))

    assert imported == 1
    assert row is not None
    assert (row.place_name, row.latitude, row.longitude) == ("Main", 1.0, 2.0)


def test_a_file_larger_than_one_batch_is_imported_whole(sessions: sessionmaker[Session]) -> None:
    prefix = f"B{uuid.uuid4().hex[:8].upper()}"
    lines = [made_up_line(f"{prefix}{n:04d}", "Bulk", 5.0, 6.0) for n in range(2500)]

    with sessions() as session, session.begin():
        imported = import_geonames(session, lines)
    with sessions() as session:
        stored = session.scalar(
            select(func.count()).where(
                PostalCode.country == "ZZ", PostalCode.postal_code.startswith(prefix)
            )
        )

    assert imported == stored == 2500


def test_the_import_command_reports_its_count_and_refuses_a_bad_file_whole(
    settings: Settings,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    code, lost = (f"C{uuid.uuid4().hex[:10].upper()}" for _ in range(2))
    good.write_text(made_up_line(code, "Good", 7.0, 8.0), encoding="utf-8")
    bad.write_text(made_up_line(lost, "Lost", 7.0, 8.0) + "ZZ\tbroken\n", encoding="utf-8")

    main([str(good)], settings)
    with pytest.raises(SystemExit, match=r"bad\.txt: line 2"):
        main([str(bad)], settings)

    assert "imported 1 postal codes from 1 file(s)" in capsys.readouterr().out
    with sessions() as session:
        assert locate(session, "ZZ", code) == Point(7.0, 8.0)
        assert session.get(PostalCode, ("ZZ", lost)) is None


def test_the_demo_seed_makes_swedish_addresses_locatable(sessions: sessionmaker[Session]) -> None:
    # Rolled back: the shared database keeps no demo catalogue for other tests to trip on.
    with sessions() as session:
        seed(session, "USD")
        point = locate(session, "SE", "211 19")
        session.rollback()

    assert point is not None
    assert distance_km(point, MALMO) < 15
