"""Postal code to coordinates, offline: US from `zipcodes`, others from the postal_code table."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import zipcodes
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from models.domain.geo import Point
from models.tables.catalog import PostalCode

# Where the postal_code table is read: a session in a transaction, or a connection.
Reader = Session | Connection

_US_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")

# The shortest prefix a fallback may share. A US ZIP's first three digits name its sectional
# centre, a region; two digits span several states ("00" is both Puerto Rico and an IRS
# ZIP on Long Island), too far to ship from.
_MIN_SHARED_PREFIX = {"US": 3}
_DEFAULT_MIN_SHARED_PREFIX = 2


@dataclass(frozen=True)
class Located:
    """Where a postal code is, and which code's coordinates said so."""

    point: Point
    postal_code_used: str
    exact: bool


def normalise_postal_code(country: str, postal_code: str) -> str:
    """The code as stored: upper case, inner spaces removed, US ZIP+4 cut to five digits."""
    code = re.sub(r"\s+", "", postal_code).upper()
    if country == "US" and (match := _US_ZIP.match(code)):
        return match.group(1)
    return code


def closest_sharing_prefix(code: str, candidates: Iterable[str], min_prefix: int) -> str | None:
    """The candidate sharing the longest prefix with `code` (at least `min_prefix`), or None."""
    # Ties go to the closest code: by number when both are digits of one length (21150 is
    # nearer 21149 than 21160, though both differ from it in one digit), else by the first
    # character that differs, then the lower code.
    ranked = [
        (-_shared_prefix(code, candidate), _gap(code, candidate), candidate)
        for candidate in candidates
        if candidate != code
    ]
    if not ranked:
        return None
    negative_shared, _, best = min(ranked)
    return best if -negative_shared >= min_prefix else None


def _shared_prefix(code: str, other: str) -> int:
    shared = 0
    for mine, theirs in zip(code, other, strict=False):
        if mine != theirs:
            break
        shared += 1
    return shared


def _gap(code: str, other: str) -> int:
    both_numbers = all(c.isascii() and c.isdigit() for c in (code, other))
    if both_numbers and len(code) == len(other):
        return abs(int(code) - int(other))
    at = _shared_prefix(code, other)
    if at >= min(len(code), len(other)):
        return 0
    return abs(ord(code[at]) - ord(other[at]))


def _us_exact(code: str) -> Point | None:
    # A bisection of the sorted index: the package's own lookup scans all 40,000 ZIPs.
    codes, points = _us_index()
    at = bisect_left(codes, code)
    return points[at] if at < len(codes) and codes[at] == code else None


def _us_point(entry: dict[str, str]) -> Point | None:
    # The package gives military and some unique ZIPs "0", "0": no coordinates, not the Gulf
    # of Guinea.
    latitude, longitude = float(entry.get("lat") or 0), float(entry.get("long") or 0)
    if latitude == 0 and longitude == 0:
        return None
    return Point(latitude, longitude)


def warm_up() -> None:
    """Build the ZIP indexes now (~0.5 s), so no customer's order waits for them."""
    _us_index()
    _us_states()


@cache
def _us_states() -> dict[str, str]:
    """The state of every ZIP the package knows, and of every three-digit ZIP prefix."""
    states: dict[str, str] = {}
    for entry in zipcodes.list_all():  # type: ignore[no-untyped-call]
        if entry.get("state"):
            states[entry["zip_code"]] = entry["state"]
            # A ZIP's first three digits name a sectional centre, which lies in one state.
            states.setdefault(entry["zip_code"][:3], entry["state"])
    return states


def us_state(code: str) -> str | None:
    """The two-letter state of a US ZIP (`10001` or `10001-1234`), or None when unknown."""
    digits = code.strip()[:5]
    states = _us_states()
    return states.get(digits) or states.get(digits[:3])


@cache
def _us_index() -> tuple[list[str], list[Point]]:
    """Every ZIP the package has coordinates for, sorted; built once per process."""
    located = sorted(
        (entry["zip_code"], point)
        for entry in zipcodes.list_all()  # type: ignore[no-untyped-call]
        if (point := _us_point(entry))
    )
    return [code for code, _ in located], [point for _, point in located]


def nearest_us_zip(code: str) -> Located | None:
    """The located ZIP nearest `code` among those sharing its longest prefix (3 digits or more)."""
    codes, points = _us_index()
    # Codes sharing a prefix with `code` sit together in sorted order, so its two neighbours
    # are the closest codes sharing its longest prefix.
    at = bisect_left(codes, code)
    neighbours = {codes[i]: points[i] for i in (at - 1, at) if 0 <= i < len(codes)}
    used = closest_sharing_prefix(code, neighbours, _MIN_SHARED_PREFIX["US"])
    return Located(neighbours[used], used, exact=False) if used else None


def _table_exact(session: Reader, country: str, code: str) -> Located | None:
    row = session.execute(
        select(PostalCode.latitude, PostalCode.longitude).where(
            PostalCode.country == country, PostalCode.postal_code == code
        )
    ).first()
    return Located(Point(row.latitude, row.longitude), code, exact=True) if row else None


def _table_nearest(session: Reader, country: str, code: str) -> Located | None:
    # The primary key orders one country's codes, so the row just below and the one just
    # above are the closest codes sharing the longest prefix, as in `nearest_us_zip`; two index
    # lookups however large the table. One country's codes share one format (digits,
    # upper-case letters, a separator in a fixed place), which every collation sorts alike.
    columns = (PostalCode.postal_code, PostalCode.latitude, PostalCode.longitude)
    in_country = select(*columns).where(PostalCode.country == country).limit(1)
    below = in_country.where(PostalCode.postal_code < code).order_by(PostalCode.postal_code.desc())
    above = in_country.where(PostalCode.postal_code > code).order_by(PostalCode.postal_code)
    neighbours = {
        row.postal_code: Point(row.latitude, row.longitude)
        for query in (below, above)
        if (row := session.execute(query).first())
    }
    minimum = _MIN_SHARED_PREFIX.get(country, _DEFAULT_MIN_SHARED_PREFIX)
    used = closest_sharing_prefix(code, neighbours, minimum)
    return Located(neighbours[used], used, exact=False) if used else None


def locate_with_source(session: Reader, country: str, postal_code: str) -> Located | None:
    """Where a postal code is, falling back to the nearest code sharing its longest prefix."""
    code = normalise_postal_code(country, postal_code)
    is_zip = country == "US" and _US_ZIP.match(code) is not None
    if is_zip and (point := _us_exact(code)):
        return Located(point, code, exact=True)
    if found := _table_exact(session, country, code):
        return found
    if is_zip:
        return nearest_us_zip(code)
    return _table_nearest(session, country, code)


def locate(session: Reader, country: str, postal_code: str) -> Point | None:
    """Coordinates of a postal code, or None when it cannot be located."""
    found = locate_with_source(session, country, postal_code)
    return found.point if found else None
