"""Ingestion: a landed file is checked before it loads; a bad one is quarantined and the run fails.

Each file (``<name>.csv``, or the same delivery gzip-compressed as ``<name>.csv.gz``) is first
copied aside (``archive.take_snapshot``) and the copy is validated against its raw table's
declaration (``pipeline/defs/raw/tables.py``, the single statement of the contract):

1. its framing (``framing.py``): not empty, compressed exactly when its name says so, every line
   complete, no blank lines, a UTF-8 header naming exactly the expected columns in order;
2. its structure: DuckDB parses it with every column as VARCHAR (``sql/parse_landed_file.sql``)
   and ``store_rejects``: every row has the right number of fields and valid UTF-8, no value
   spans lines, and there is at least one data row;
3. its values (``domain.py``), once the structure is sound: every value's text against its
   column's type and rules, the agreements between a row's values, the file's month, the key.

Problems name the file, line, column and value. If every file of a load passes, the volume guard
(``guard.py``) compares them with what is stored; then the copies go to the archive and the load
reads them from there. If any file fails, each failing file is moved to quarantine beside a note
of the reason and the load stops before the warehouse is opened, so every stored partition stays
as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipeline.defs.raw.tables import RAW_TABLES
from pipeline.files import sha256_of
from pipeline.landing import archive, domain, framing
from pipeline.landing.guard import Delivery
from pipeline.landing.names import COMPRESSED_SUFFIX, UnsafeLandingPath
from pipeline.landing.quarantine import Problem, QuarantinedFile, quarantine
from pipeline.landing.resources import LandingZone

INGEST_SQL_DIR = domain.SQL_DIR
MAX_PROBLEMS_REPORTED = 10


def read_ingest_sql(name: str) -> str:
    return (INGEST_SQL_DIR / f"{name}.sql").read_text()


class MissingLandingFile(FileNotFoundError):
    """A file the asset needs has not landed."""


class AmbiguousDelivery(FileExistsError):
    """The same file landed both plain and compressed: which one to load is not for us to guess."""


@dataclass(frozen=True)
class LandingRequest:
    """One landed file a load needs (its plain ``.csv`` name); ``month_start`` set for monthly files."""

    table: str
    file_name: str
    month_start: date | None = None


@dataclass(frozen=True)
class Inspection:
    """What validating one file found: its problems, and for the guard its rows and key values."""

    problems: list[Problem]
    rows: int = 0
    keys: frozenset[str] | None = None


@dataclass(frozen=True)
class Rejection:
    original_path: Path
    problems: Sequence[Problem]
    quarantined: QuarantinedFile

    def describe(self) -> str:
        shown = [f"  - {problem}" for problem in self.problems[:MAX_PROBLEMS_REPORTED]]
        hidden = len(self.problems) - len(shown)
        more = [f"  - ... and {hidden} more (see the note)"] if hidden > 0 else []
        return "\n".join(
            [
                f"{self.original_path} was rejected "
                f"({len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}):",
                *shown,
                *more,
                f"  moved to {self.quarantined.path}",
                f"  reason in {self.quarantined.note_path}",
            ]
        )


class RejectedLandingFiles(ValueError):
    """One or more landed files failed validation and were quarantined."""

    def __init__(self, rejections: Sequence[Rejection]):
        self.rejections = list(rejections)
        super().__init__(
            "\n".join(
                [
                    *(rejection.describe() for rejection in self.rejections),
                    "Nothing was loaded: the warehouse is unchanged. Drop a corrected file under "
                    "the same name to load it.",
                ]
            )
        )


_CONVERSION_PREFIX = re.compile(r'^Error when converting column "[^"]*"\.\s*')
_COLUMN_COUNT = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _row_problem(line: int, column: str | None, error_type: str, message: str) -> Problem:
    counts = _COLUMN_COUNT.search(message)
    if counts:
        expected, found = counts.groups()
        return Problem(f"expected {expected} fields, found {found}", line=line)
    if error_type == "INVALID ENCODING":
        return Problem("the bytes are not valid UTF-8", line=line, column=column)
    return Problem(_CONVERSION_PREFIX.sub("", message), line=line, column=column)


def inspect_landed_file(path: Path, table: str, month_start: date | None = None) -> Inspection:
    """Validate the file at ``path`` as a source of ``raw.<table>`` (see the module's steps)."""
    declared = RAW_TABLES[table]
    framed = framing.check_framing(path)
    if framed.fatal:
        return Inspection(framed.problems)
    columns = list(declared.csv_columns())
    header = framing.check_header(path, columns)
    if header:
        return Inspection(framed.problems + header)
    blank_lines = {problem.line for problem in framed.problems}
    with duckdb.connect() as conn:
        text_columns = dict.fromkeys(columns, "VARCHAR")
        conn.execute(read_ingest_sql("parse_landed_file"), {"path": str(path), "columns": text_columns})
        rejects = [
            _row_problem(*row)
            for row in conn.execute(read_ingest_sql("rejected_rows")).fetchall()
            if row[0] not in blank_lines  # a whitespace-only line is reported once, as blank
        ]
        problems = framed.problems + rejects
        rows = conn.execute("select count(*) from landed").fetchall()[0][0]
        if rows == 0 and not problems:
            return Inspection([Problem("the file has a header but no data rows", line=1)])
        if not problems and framed.line_endings != rows + 1:
            problems = framing.multiline_records(path, MAX_PROBLEMS_REPORTED)
        if not problems:  # every record is on its own line: record n is line n + 2
            problems = domain.check_values(conn, declared, month_start) + domain.duplicate_keys(
                conn, declared
            )
        keys = domain.key_values(conn, declared) if not problems else None
    return Inspection(sorted(problems, key=lambda problem: problem.line or 0), rows, keys)


def validate_landed_file(path: Path, table: str, month_start: date | None = None) -> list[Problem]:
    """Everything wrong with the file at ``path`` as a source of ``raw.<table>``; empty if fine."""
    return inspect_landed_file(path, table, month_start).problems


def _reject(
    landed: Path,
    snapshot: archive.Snapshot | None,
    problems: list[Problem],
    landing_zone: LandingZone,
    run_id: str | None,
) -> Rejection:
    """Quarantine what was validated: the landing file, or the copy if the file changed since."""
    reason = "; ".join(str(problem) for problem in problems[:MAX_PROBLEMS_REPORTED])
    if snapshot is None or sha256_of(landed) == snapshot.sha256:
        quarantined = quarantine(
            landed, landing_zone.quarantine_root, reason=reason, problems=problems, run_id=run_id
        )
        if snapshot is not None:
            archive.discard(snapshot)
    else:  # upstream replaced the file meanwhile: keep the new one for the next run
        quarantined = quarantine(
            snapshot.path,
            landing_zone.quarantine_root,
            reason=reason,
            problems=problems,
            run_id=run_id,
            original_path=landed,
        )
    return Rejection(landed, problems, quarantined)


def find_delivery(landing_zone: LandingZone, file_name: str) -> Path:
    """The landed file for ``file_name``: itself, or ``<file_name>.gz``; never both."""
    found = [
        landing_zone.root / name
        for name in (file_name, file_name + COMPRESSED_SUFFIX)
        if (landing_zone.root / name).is_symlink() or (landing_zone.root / name).exists()
    ]
    if not found:
        raise MissingLandingFile(
            f"Expected landing file {landing_zone.root / file_name} (or {file_name}{COMPRESSED_SUFFIX}) "
            "does not exist; upstream has not delivered it yet."
        )
    if len(found) > 1:
        raise AmbiguousDelivery(
            f"Both {found[0]} and {found[1]} have landed: two deliveries of the same data. Nothing "
            "was loaded; remove the one that should not load (or move it aside) and re-run."
        )
    return found[0]


def accept_landed_files(
    landing_zone: LandingZone,
    requests: Sequence[LandingRequest],
    run_id: str | None,
    guard: Callable[[list[Delivery]], None] | None = None,
) -> list[archive.ArchivedFile]:
    """Validate, guard and archive the requested files; quarantine and raise if any is bad.

    ``guard`` sees every validated file before anything is archived; if it raises (the volume
    guard holds a delivery) the copies are discarded and nothing is quarantined. Returns the
    archived copies, in request order, for the load to read.
    """
    snapshots: list[archive.Snapshot] = []
    deliveries: list[Delivery] = []
    rejections: list[Rejection] = []
    try:
        for request in requests:
            landed = find_delivery(landing_zone, request.file_name)
            try:
                landing_zone.landed_file(landed.name)
            except UnsafeLandingPath as error:
                if not landed.is_symlink():
                    raise
                rejections.append(_reject(landed, None, [Problem(str(error))], landing_zone, run_id))
                continue
            snapshot = archive.take_snapshot(landed, landing_zone.archive_root)
            try:
                inspection = inspect_landed_file(snapshot.path, request.table, request.month_start)
            except BaseException:
                archive.discard(snapshot)
                raise
            if inspection.problems:
                rejections.append(_reject(landed, snapshot, inspection.problems, landing_zone, run_id))
            else:
                snapshots.append(snapshot)
                deliveries.append(
                    Delivery(
                        request.table, landed.name, request.month_start, inspection.rows, inspection.keys
                    )
                )
        if not rejections and guard is not None:
            guard(deliveries)
    except BaseException:
        for snapshot in snapshots:
            archive.discard(snapshot)
        raise
    if rejections:
        for snapshot in snapshots:
            archive.discard(snapshot)
        raise RejectedLandingFiles(rejections)
    return [archive.keep(snapshot, landing_zone.archive_root, run_id) for snapshot in snapshots]
