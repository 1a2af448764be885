"""GeoNames postal-code files (download.geonames.org/export/zip) into the postal_code table."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.store.geodata import normalise_postal_code
from models.tables.catalog import PostalCode

# Shipped with the code so the demo can locate Swedish addresses without a download.
SWEDEN = Path(__file__).resolve().parent.parent / "data" / "geonames_SE.txt"

BATCH_SIZE = 1000

# country, postal code, place name, admin name1, admin code1, admin name2, admin code2,
# admin name3, admin code3, latitude, longitude, accuracy. Some exports drop the last tab
# when accuracy is empty, so eleven fields are accepted too.
_FIELDS = 12
_COUNTRY, _CODE, _PLACE, _LATITUDE, _LONGITUDE = 0, 1, 2, 9, 10
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
_MAX_CODE = 16
_MAX_PLACE = 200


@dataclass(frozen=True)
class PostalCodeRow:
    """One located postal code, its code normalised as the table stores it."""

    country: str
    postal_code: str
    place_name: str
    latitude: float
    longitude: float


def parse_geonames(lines: Iterable[str]) -> Iterator[PostalCodeRow]:
    """The rows of a GeoNames file that have coordinates; a ValueError names a malformed line."""
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if text.strip():
            row = _parse_line(text, number)
            if row is not None:
                yield row


def _parse_line(text: str, number: int) -> PostalCodeRow | None:
    fields = text.split("\t")
    if len(fields) not in {_FIELDS - 1, _FIELDS}:
        raise ValueError(
            f"line {number}: expected {_FIELDS} tab-separated fields, got {len(fields)}"
        )
    country = fields[_COUNTRY].strip().upper()
    if not _COUNTRY_CODE.match(country):
        raise ValueError(f"line {number}: country code {fields[_COUNTRY]!r} is not two letters")
    code = normalise_postal_code(country, fields[_CODE])
    if not code or len(code) > _MAX_CODE:
        raise ValueError(f"line {number}: postal code {fields[_CODE]!r} is empty or too long")
    latitude, longitude = fields[_LATITUDE].strip(), fields[_LONGITUDE].strip()
    if not latitude or not longitude:
        return None
    point = _coordinates(latitude, longitude)
    if point is None:
        raise ValueError(f"line {number}: coordinates {latitude!r}, {longitude!r} are not valid")
    place = fields[_PLACE].strip()[:_MAX_PLACE]
    return PostalCodeRow(country, code, place, point[0], point[1])


def _coordinates(latitude: str, longitude: str) -> tuple[float, float] | None:
    try:
        lat, lon = float(latitude), float(longitude)
    except ValueError:
        return None
    # Written as ranges so that NaN, which compares false to everything, is refused too.
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def import_geonames(session: Session, lines: Iterable[str]) -> int:
    """Upsert the located rows of a GeoNames file in batches; how many codes it held."""
    # GeoNames lists a code once per place it serves. The first is kept: it is the main
    # place, where averaging would put a rural code in a field between its villages. The
    # set spans batches so a later place never overwrites the first (a country's keys fit).
    seen: set[tuple[str, str]] = set()
    batch: list[dict[str, Any]] = []
    count = 0
    for row in parse_geonames(lines):
        key = (row.country, row.postal_code)
        if key in seen:
            continue
        seen.add(key)
        batch.append(asdict(row))
        if len(batch) == BATCH_SIZE:
            count += _upsert(session, batch)
            batch = []
    if batch:
        count += _upsert(session, batch)
    return count


def _upsert(session: Session, batch: list[dict[str, Any]]) -> int:
    statement = insert(PostalCode).values(batch)
    new = statement.excluded
    columns = (PostalCode.place_name, PostalCode.latitude, PostalCode.longitude)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[PostalCode.country, PostalCode.postal_code],
            set_={
                "place_name": new.place_name,
                "latitude": new.latitude,
                "longitude": new.longitude,
            },
            # An unchanged row is left alone, so importing a file again writes nothing.
            where=tuple_(*columns).is_distinct_from(
                tuple_(new.place_name, new.latitude, new.longitude)
            ),
        )
    )
    return len(batch)


def import_file(session: Session, path: Path) -> int:
    """Import one GeoNames postal-code file (UTF-8); how many codes it held."""
    with path.open(encoding="utf-8-sig") as lines:
        try:
            return import_geonames(session, lines)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from error
