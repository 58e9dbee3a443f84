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
from pipeline.landing import look_alike

# ASCII digits only: \d would also take full-width and other Unicode digits (flights_2013-０６.csv).
MONTHLY_FILE_PATTERN = re.compile(r"^(?P<table>flights|weather)_(?P<month>[0-9]{4}-[0-9]{2})\.csv$")


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
EXPECTED_NAMES = (
    "flights_YYYY-MM.csv, weather_YYYY-MM.csv, "
    + ", ".join(sorted(DIMENSION_FILES))
    + ", each optionally gzip-compressed as <name>.csv.gz"
)
COMPRESSED_SUFFIX = ".gz"
MONTHLY_TABLES = ("flights", "weather")
KNOWN_TABLES = (*MONTHLY_TABLES, *constants.DIMENSION_TABLES)


class FileKind(Enum):
    MONTHLY = "monthly"
    DIMENSION = "dimension"
    PARTIAL = "partial"
    OUT_OF_RANGE = "out_of_range"
    UNEXPECTED = "unexpected"


@dataclass(frozen=True)
class LandingFileClass:
    """What a landing file name means for the loader.

    ``compressed`` for a ``<name>.csv.gz`` delivery; ``delivery`` is then the plain ``.csv`` name it
    stands for (the name the raw asset asks for). For an UNEXPECTED name, ``reason`` says exactly
    what is wrong with it, ``suggestion`` the name it probably meant, if there is one, and
    ``look_alike_of`` the delivery (plain ``.csv`` name) the name carries, if any: that delivery is
    held — not loaded — while the look-alike is in the landing folder (it may be a second part).
    """

    kind: FileKind
    table: str | None = None
    partition_key: str | None = None
    reason: str | None = None
    compressed: bool = False
    suggestion: str | None = None
    look_alike_of: str | None = None

    @property
    def delivery(self) -> str | None:
        if self.kind is FileKind.DIMENSION and self.table:
            return dimension_file_name(self.table)
        if self.kind in (FileKind.MONTHLY, FileKind.OUT_OF_RANGE) and self.table and self.partition_key:
            return monthly_file_name(self.table, self.partition_key)
        return None


def describe_delivery(delivery: str) -> str:
    """``flights_2013-03.csv`` → ``flights 2013-03``; ``airports.csv`` → ``airports``."""
    monthly = parse_monthly_file_name(delivery)
    return f"{monthly.table} {monthly.month}" if monthly else delivery.removesuffix(".csv")


def _carried_delivery(name: str, suggestion: str | None) -> str | None:
    """The delivery an unusable name stands for or carries: its suggestion's, or the known table (and
    month) it begins with, read with look-alike digits as digits."""
    if suggestion is not None and _is_known(suggestion):
        return suggestion.removesuffix(COMPRESSED_SUFFIX)
    carried = look_alike.carried_table(name)
    if carried is None:
        return None
    table, month = carried
    return MonthlyFile(table, month).name if month else dimension_file_name(table)


def _unexpected(name: str, reason: str, suggestion: str | None = None) -> LandingFileClass:
    hint = f"; did you mean {suggestion}?" if suggestion else ""
    delivery = _carried_delivery(name, suggestion)
    held = (
        f"; possible second part of {describe_delivery(delivery)}: {delivery} (or .csv.gz) is held, "
        "not loaded, while this file is here"
        if delivery
        else ""
    )
    return LandingFileClass(
        FileKind.UNEXPECTED,
        reason=f"{reason}{hint}{held} (expected {EXPECTED_NAMES})",
        suggestion=suggestion,
        look_alike_of=delivery,
    )


def _is_known(name: str) -> bool:
    plain = name.removesuffix(COMPRESSED_SUFFIX)
    return parse_monthly_file_name(plain) is not None or plain in DIMENSION_FILES


def _why_unexpected(name: str) -> LandingFileClass:
    """The precise reason a name is not a landing file name, most specific first."""
    stripped = name.strip()
    if stripped != name or any(char.isspace() for char in name):
        where = "leading or trailing whitespace" if stripped != name else "whitespace inside it"
        if _is_known(stripped):
            return _unexpected(name, f"the name {name!r} has {where}", stripped)
    copy = look_alike.COPY_MARK.match(name)
    if copy and _is_known(copy["stem"] + copy["ext"]):
        return _unexpected(
            name,
            f"the name {name!r} looks like a copy ({copy['mark'].strip()!r} added by a download or a "
            "file manager), not a delivery",
            copy["stem"] + copy["ext"],
        )
    month_first = look_alike.MONTHLY_NAME_START.match(name)
    if month_first and not _is_known(f"{name.partition('.')[0]}.csv"):
        delivery = MonthlyFile(month_first["table"], month_first["month"]).name
        return _unexpected(
            name,
            f"the name {name!r} carries {describe_delivery(delivery)} but is not {delivery} "
            "(a part of a split delivery, or a copy?)",
        )
    if stripped != name or any(char.isspace() for char in name):
        return _unexpected(name, f"the name {name!r} has whitespace in it")
    base, dot, extension = name.partition(".")
    if extension.lower() in ("csv", "csv.gz") and extension not in ("csv", "csv.gz"):
        return _unexpected(
            name, f"the extension '.{extension}' must be lower case", f"{base}.{extension.lower()}"
        )
    if _is_known(f"{base}.csv") and extension not in ("csv", "csv.gz"):
        return _unexpected(
            name,
            f"unknown extension '.{extension}' (landing files end in .csv, or .csv.gz when gzip-compressed)"
            if dot
            else "the name has no extension",
            f"{base}.csv",
        )
    monthly = look_alike.MONTHLY_SHAPE.match(name)
    if (
        monthly
        and monthly["table"].lower() in MONTHLY_TABLES
        and monthly["table"] != monthly["table"].lower()
    ):
        return _unexpected(name, f"the table {monthly['table']!r} must be lower case", name.lower())
    if monthly and monthly["table"] in MONTHLY_TABLES:
        month = monthly["month"]
        if misread := look_alike.look_alike_month(month):
            what, as_digits = misread
            suggestion = f"{monthly['table']}_{as_digits}{monthly['ext'] or '.csv'}"
            return _unexpected(name, f"the month {month!r} {what}", suggestion)
        return _unexpected(
            name, f"the month {month!r} is not YYYY-MM (a four-digit year and a two-digit month)"
        )
    if monthly and monthly["table"] in constants.DIMENSION_TABLES:
        return _unexpected(
            name,
            f"{monthly['table']} is delivered whole, not by month",
            dimension_file_name(monthly["table"]),
        )
    table = (monthly["table"] if monthly else base).lower()
    if extension in ("csv", "csv.gz") and table not in KNOWN_TABLES:
        return _unexpected(name, f"unknown table {table!r} (known: {', '.join(KNOWN_TABLES)})")
    return _unexpected(name, "not a landing file name")


def classify_landing_file(name: str, partition_keys: Collection[str]) -> LandingFileClass:
    """Classify a landing file by its name alone: which table and month it feeds, or exactly why not.

    Pure, so every rule is testable on names. ``<name>.csv.gz`` is the same delivery as
    ``<name>.csv``, gzip-compressed. ``landing_sensor`` quarantines complete
    ``FileKind.OUT_OF_RANGE`` files (a month no partition holds) and reports the rest with the reason.
    """
    if name.endswith(PARTIAL_SUFFIX):
        return LandingFileClass(FileKind.PARTIAL, reason="still being written")
    compressed = name.endswith(".csv" + COMPRESSED_SUFFIX)
    plain = name.removesuffix(COMPRESSED_SUFFIX) if compressed else name
    monthly = parse_monthly_file_name(plain)
    if monthly is not None:
        if monthly.partition_key not in partition_keys:
            keys = sorted(partition_keys)
            return LandingFileClass(
                FileKind.OUT_OF_RANGE,
                table=monthly.table,
                partition_key=monthly.partition_key,
                reason=f"month {monthly.month} is outside the partitions {keys[0][:7]}…{keys[-1][:7]}"
                if keys
                else "there are no partitions",
                compressed=compressed,
            )
        return LandingFileClass(FileKind.MONTHLY, monthly.table, monthly.partition_key, compressed=compressed)
    if plain in DIMENSION_FILES:
        return LandingFileClass(FileKind.DIMENSION, DIMENSION_FILES[plain], compressed=compressed)
    return _why_unexpected(name)
