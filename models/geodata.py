"""Postal code to coordinates, offline: US from `zipcodes`, others from the postal_code table."""

from __future__ import annotations

import re

import zipcodes
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.catalog import PostalCode
from models.domain.geo import Point

_US_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")


def normalise_postal_code(country: str, postal_code: str) -> str:
    """The code as stored: upper case, inner spaces removed, US ZIP+4 cut to five digits."""
    code = re.sub(r"\s+", "", postal_code).upper()
    if country == "US" and (match := _US_ZIP.match(code)):
        return match.group(1)
    return code


def _locate_us(code: str) -> Point | None:
    if not _US_ZIP.match(code):
        return None
    for entry in zipcodes.matching(code):  # type: ignore[no-untyped-call]
        if entry.get("lat") and entry.get("long"):
            return Point(float(entry["lat"]), float(entry["long"]))
    return None


def locate(session: Session, country: str, postal_code: str) -> Point | None:
    """Coordinates of a postal code, or None when it cannot be located."""
    code = normalise_postal_code(country, postal_code)
    if country == "US":
        found = _locate_us(code)
        if found is not None:
            return found
    row = session.execute(
        select(PostalCode.latitude, PostalCode.longitude).where(
            PostalCode.country == country, PostalCode.postal_code == code
        )
    ).first()
    return Point(row.latitude, row.longitude) if row else None
