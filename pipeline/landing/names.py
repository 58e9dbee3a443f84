"""Landing file names: which table and month a file feeds, or why it feeds none.

Upstream drops the tables declared monthly as one file per month (``<table>_2013-01.csv``) and the
others as whole files (``<table>.csv``); which is which comes from the declarations
(``landed_tables.py``). Files are written under a temporary ``.part`` name and renamed when
complete, so a reader never sees half a file under its final name.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pipeline.files import PARTIAL_SUFFIX
from pipeline.landing import look_alike
from pipeline.landing.landed_tables import (
    LandedTables,
    MonthlyFile,
    describe_delivery,
    monthly_file_name,
    whole_file_name,
)
from pipeline.months import MonthKey


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


COMPRESSED_SUFFIX = ".gz"


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
            return whole_file_name(self.table)
        if self.kind in (FileKind.MONTHLY, FileKind.OUT_OF_RANGE) and self.table and self.partition_key:
            return monthly_file_name(self.table, self.partition_key)
        return None


def _carried_delivery(name: str, suggestion: str | None, landed: LandedTables) -> str | None:
    """The delivery an unusable name stands for or carries: its suggestion's, or the known table (and
    month) it begins with, read with look-alike digits as digits."""
    if suggestion is not None and _is_known(suggestion, landed):
        return suggestion.removesuffix(COMPRESSED_SUFFIX)
    carried = look_alike.carried_table(name, landed)
    if carried is None:
        return None
    table, month = carried
    return MonthlyFile(table, MonthKey.from_label(month)).name if month else whole_file_name(table)


def _unexpected(
    name: str, reason: str, landed: LandedTables, suggestion: str | None = None
) -> LandingFileClass:
    hint = f"; did you mean {suggestion}?" if suggestion else ""
    delivery = _carried_delivery(name, suggestion, landed)
    held = (
        f"; possible second part of {describe_delivery(delivery)}: {delivery} (or .csv.gz) is held, "
        "not loaded, while this file is here"
        if delivery
        else ""
    )
    return LandingFileClass(
        FileKind.UNEXPECTED,
        reason=f"{reason}{hint}{held} (expected {landed.expected_names})",
        suggestion=suggestion,
        look_alike_of=delivery,
    )


def _is_known(name: str, landed: LandedTables) -> bool:
    return landed.table_of_file(name.removesuffix(COMPRESSED_SUFFIX)) is not None


def _why_unexpected(name: str, landed: LandedTables) -> LandingFileClass:
    """The precise reason a name is not a landing file name, most specific first."""
    stripped = name.strip()
    if stripped != name or any(char.isspace() for char in name):
        where = "leading or trailing whitespace" if stripped != name else "whitespace inside it"
        if _is_known(stripped, landed):
            return _unexpected(name, f"the name {name!r} has {where}", landed, stripped)
    copy = look_alike.COPY_MARK.match(name)
    if copy and _is_known(copy["stem"] + copy["ext"], landed):
        return _unexpected(
            name,
            f"the name {name!r} looks like a copy ({copy['mark'].strip()!r} added by a download or a "
            "file manager), not a delivery",
            landed,
            copy["stem"] + copy["ext"],
        )
    month_first = look_alike.monthly_name_start(name, landed.monthly)
    if month_first and not _is_known(f"{name.partition('.')[0]}.csv", landed):
        delivery = MonthlyFile(month_first["table"], MonthKey.from_label(month_first["month"])).name
        return _unexpected(
            name,
            f"the name {name!r} carries {describe_delivery(delivery)} but is not {delivery} "
            "(a part of a split delivery, or a copy?)",
            landed,
        )
    if stripped != name or any(char.isspace() for char in name):
        return _unexpected(name, f"the name {name!r} has whitespace in it", landed)
    base, dot, extension = name.partition(".")
    if extension.lower() in ("csv", "csv.gz") and extension not in ("csv", "csv.gz"):
        return _unexpected(
            name, f"the extension '.{extension}' must be lower case", landed, f"{base}.{extension.lower()}"
        )
    if _is_known(f"{base}.csv", landed) and extension not in ("csv", "csv.gz"):
        return _unexpected(
            name,
            f"unknown extension '.{extension}' (landing files end in .csv, or .csv.gz when gzip-compressed)"
            if dot
            else "the name has no extension",
            landed,
            f"{base}.csv",
        )
    monthly = look_alike.MONTHLY_SHAPE.match(name)
    if (
        monthly
        and monthly["table"].lower() in landed.monthly
        and monthly["table"] != monthly["table"].lower()
    ):
        return _unexpected(name, f"the table {monthly['table']!r} must be lower case", landed, name.lower())
    if monthly and monthly["table"] in landed.monthly:
        month = monthly["month"]
        if misread := look_alike.look_alike_month(month):
            what, as_digits = misread
            suggestion = f"{monthly['table']}_{as_digits}{monthly['ext'] or '.csv'}"
            return _unexpected(name, f"the month {month!r} {what}", landed, suggestion)
        return _unexpected(
            name, f"the month {month!r} is not YYYY-MM (a four-digit year and a two-digit month)", landed
        )
    if monthly and monthly["table"] in landed.whole:
        return _unexpected(
            name,
            f"{monthly['table']} is delivered whole, not by month",
            landed,
            whole_file_name(monthly["table"]),
        )
    table = (monthly["table"] if monthly else base).lower()
    if extension in ("csv", "csv.gz") and table not in landed.names:
        return _unexpected(name, f"unknown table {table!r} (known: {', '.join(landed.names)})", landed)
    return _unexpected(name, "not a landing file name", landed)


def classify_landing_file(
    name: str, partition_keys: Collection[str], landed: LandedTables
) -> LandingFileClass:
    """Classify a landing file by its name alone: which table and month it feeds, or exactly why not.

    Pure, so every rule is testable on names. ``<name>.csv.gz`` is the same delivery as
    ``<name>.csv``, gzip-compressed. ``landing_sensor`` quarantines complete
    ``FileKind.OUT_OF_RANGE`` files (a month no partition holds) and reports the rest with the reason.
    """
    if name.endswith(PARTIAL_SUFFIX):
        return LandingFileClass(FileKind.PARTIAL, reason="still being written")
    compressed = name.endswith(".csv" + COMPRESSED_SUFFIX)
    plain = name.removesuffix(COMPRESSED_SUFFIX) if compressed else name
    monthly = landed.monthly_file(plain)
    if monthly is not None:
        if monthly.partition_key not in partition_keys:
            keys = sorted(partition_keys)
            return LandingFileClass(
                FileKind.OUT_OF_RANGE,
                table=monthly.table,
                partition_key=monthly.partition_key,
                reason=f"month {monthly.month} is outside the partitions {_month(keys[0])}…{_month(keys[-1])}"
                if keys
                else "there are no partitions",
                compressed=compressed,
            )
        return LandingFileClass(FileKind.MONTHLY, monthly.table, monthly.partition_key, compressed=compressed)
    if plain in landed.whole_files:
        return LandingFileClass(FileKind.DIMENSION, landed.whole_files[plain], compressed=compressed)
    return _why_unexpected(name, landed)


def _month(partition_key: str) -> MonthKey:
    return MonthKey.from_partition_key(partition_key)
