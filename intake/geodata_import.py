"""Import GeoNames postal-code files: `python -m intake.geodata_import FILE [FILE ...]`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from models.services.import_geodata import import_file
from models.store.db import unit_of_work
from settings import Settings, get_settings


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> None:
    """Import every file in one transaction, so a bad line leaves the table as it was."""
    parser = argparse.ArgumentParser(
        prog="python -m intake.geodata_import",
        description="Load GeoNames postal-code files (download.geonames.org/export/zip).",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="e.g. SE.txt, UTF-8")
    arguments = parser.parse_args(argv)
    settings = settings or get_settings()
    counts: dict[Path, int] = {}
    try:
        with unit_of_work(settings.require_database_url()) as session:
            for path in arguments.files:
                counts[path] = import_file(session, path)
    except (OSError, RuntimeError, ValueError) as error:
        raise SystemExit(f"nothing imported: {error}") from error
    # Printed after the commit: a count is only reported once the codes are really there.
    for path, count in counts.items():
        print(f"{path}: {count} postal codes")
    print(f"imported {sum(counts.values())} postal codes from {len(counts)} file(s)")


if __name__ == "__main__":
    main()
