"""Landing file names: which table and month a file feeds, or why it feeds none.

Upstream drops flights and weather as one file per month (``flights_2013-01.csv``) and the
dimensions as whole files (``airlines.csv``). Files are written under a temporary ``.part`` name
and renamed when complete, so a reader never sees half a file under its final name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pipeline import constants
from pipeline.files import PARTIAL_SUFFIX

MONTHLY_FILE_PATTERN = re.compile(r"^(?P<table>flights|weather)_(?P<month>\d{4}-\d{2})\.csv$")


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


DIMENSION_FILES = {dimension_file_name(table): table for table in constants.DIMENSION_TABLES}
EXPECTED_NAMES = "flights_YYYY-MM.csv, weather_YYYY-MM.csv, " + ", ".join(sorted(DIMENSION_FILES))


class FileKind(Enum):
    MONTHLY = "monthly"
    DIMENSION = "dimension"
    PARTIAL = "partial"
    OUT_OF_RANGE = "out_of_range"
    UNEXPECTED = "unexpected"


@dataclass(frozen=True)
class LandingFileClass:
    """What a landing file name means for the loader."""

    kind: FileKind
    table: str | None = None
    partition_key: str | None = None
    reason: str | None = None


def classify_landing_file(name: str, partition_keys: Collection[str]) -> LandingFileClass:
    """Classify a landing file by its name alone: which table and month it feeds, or why not.

    Pure, so every rule is testable on names. ``landing_sensor`` quarantines complete
    ``FileKind.OUT_OF_RANGE`` files (a month no partition holds) and skips the rest with the reason.
    """
    if name.endswith(PARTIAL_SUFFIX):
        return LandingFileClass(FileKind.PARTIAL, reason="still being written")
    monthly = parse_monthly_file_name(name)
    if monthly is not None:
        if monthly.partition_key not in partition_keys:
            keys = sorted(partition_keys)
            return LandingFileClass(
                FileKind.OUT_OF_RANGE,
                table=monthly.table,
                partition_key=monthly.partition_key,
                reason=f"month {monthly.month} is outside the partitions "
                f"{keys[0][:7]}…{keys[-1][:7]}" if keys else "there are no partitions",
            )
        return LandingFileClass(FileKind.MONTHLY, monthly.table, monthly.partition_key)
    if name in DIMENSION_FILES:
        return LandingFileClass(FileKind.DIMENSION, DIMENSION_FILES[name])
    return LandingFileClass(
        FileKind.UNEXPECTED, reason=f"not a landing file name (expected {EXPECTED_NAMES})"
    )
