"""Ingestion: a landed file is checked before it loads; a bad one is quarantined and the run fails.

Each file is first copied aside (``archive.take_snapshot``) and the copy is validated against the
columns its table declares (``pipeline/defs/raw/tables.py``, the single statement of the
contract): not empty, ending with a complete line (a truncated or half-written file does not), a
UTF-8 header naming exactly the expected columns in order, at least one data row, every row with
the right number of fields, values that fit their types and valid UTF-8, and — for a monthly file —
every row dated in the month the file is named for. Problems name the file, line and column.

If every file of a load passes, the copies go to the archive and the load reads them from there. If
any fails, each failing file is moved to quarantine beside a note of the reason and the load stops
before the warehouse is opened, so every stored partition stays as it was.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipeline.files import sha256_of
from pipeline.defs.raw.tables import RAW_TABLES
from pipeline.landing import archive
from pipeline.landing.names import UnsafeLandingPath
from pipeline.landing.quarantine import Problem, QuarantinedFile, quarantine
from pipeline.landing.resources import LandingZone

INGEST_SQL_DIR = Path(__file__).parent / "sql"
MAX_PROBLEMS_REPORTED = 10


def read_ingest_sql(name: str) -> str:
    return (INGEST_SQL_DIR / f"{name}.sql").read_text()


class MissingLandingFile(FileNotFoundError):
    """A file the asset needs has not landed."""


@dataclass(frozen=True)
class LandingRequest:
    """One landed file a load needs; ``month_start`` set for monthly files."""

    table: str
    file_name: str
    month_start: date | None = None


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


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b"")) + 1


def _check_complete(path: Path) -> list[Problem]:
    size = path.stat().st_size
    if size == 0:
        return [Problem("the file is empty (0 bytes)")]
    with open(path, "rb") as handle:
        handle.seek(-1, 2)
        if handle.read(1) != b"\n":
            return [
                Problem(
                    "the last line has no line ending: the file is truncated or was still being "
                    "written",
                    line=_count_lines(path),
                )
            ]
    return []


def _check_header(path: Path, columns: Sequence[str]) -> list[Problem]:
    with open(path, "rb") as handle:
        first_line = handle.readline()
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return [
            Problem(
                f"the header is not valid UTF-8 (byte 0x{first_line[error.start]:02x} at "
                f"position {error.start + 1})",
                line=1,
            )
        ]
    header = next(csv.reader([text]), [])
    if header == list(columns):
        return []
    missing = [name for name in columns if name not in header]
    unexpected = [name for name in header if name not in columns]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if len(header) == len(columns) and len(missing) == len(unexpected) == 1:
        return [
            Problem(
                f"column {missing[0]!r} is named {unexpected[0]!r} in the header",
                line=1,
                column=missing[0],
            )
        ]
    parts = [
        f"missing columns {missing}" if missing else "",
        f"unexpected columns {unexpected}" if unexpected else "",
        f"duplicated columns {duplicated}" if duplicated else "",
    ]
    if not any(parts):
        parts = [f"the columns are out of order: expected {list(columns)}, found {header}"]
    return [
        Problem(
            "; ".join(part for part in parts if part),
            line=1,
            column=(missing or unexpected or duplicated or [None])[0],
        )
    ]


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


def _lines_outside_month(path: Path, month_start: date) -> list[Problem]:
    """Rows dated outside the month, by line (read only once a count says there are some)."""
    problems = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            try:
                year, month, day = int(row["year"]), int(row["month"]), int(row["day"])
            except (TypeError, ValueError):
                continue  # already reported as a row that does not parse
            try:
                dated = date(year, month, day)
            except ValueError:
                problems.append(
                    Problem(
                        f"{year:04d}-{month:02d}-{day:02d} is not a valid date",
                        line=reader.line_num,
                        column="day",
                    )
                )
                continue
            if (dated.year, dated.month) != (month_start.year, month_start.month):
                problems.append(
                    Problem(
                        f"dated {dated:%Y-%m-%d}, outside the file's month {month_start:%Y-%m}",
                        line=reader.line_num,
                        column="month",
                    )
                )
    return problems


def validate_landed_file(path: Path, table: str, month_start: date | None = None) -> list[Problem]:
    """Everything wrong with the file at ``path`` as a source of ``raw.<table>``; empty if fine."""
    problems = _check_complete(path)
    if problems:
        return problems
    columns = RAW_TABLES[table].csv_columns()
    problems = _check_header(path, list(columns))
    if problems:
        return problems

    with duckdb.connect() as conn:
        conn.execute(read_ingest_sql("parse_landed_file"), {"path": str(path), "columns": columns})
        problems = [
            _row_problem(*row) for row in conn.execute(read_ingest_sql("rejected_rows")).fetchall()
        ]
        parsed_rows = conn.execute("select count(*) from landed").fetchall()[0][0]
        if parsed_rows == 0 and not problems:
            return [Problem("the file has a header but no data rows", line=1)]
        if month_start is not None:
            [(rows_outside,)] = conn.execute(
                read_ingest_sql("rows_outside_month"), {"month_start": month_start}
            ).fetchall()
            if rows_outside:
                problems.extend(_lines_outside_month(path, month_start))
    return sorted(problems, key=lambda problem: problem.line or 0)


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


def accept_landed_files(
    landing_zone: LandingZone, requests: Sequence[LandingRequest], run_id: str | None
) -> list[archive.ArchivedFile]:
    """Validate and archive the requested files; quarantine and raise if any is bad.

    Returns the archived copies, in request order, for the load to read.
    """
    snapshots: list[archive.Snapshot] = []
    rejections: list[Rejection] = []
    try:
        for request in requests:
            try:
                landed = landing_zone.landed_file(request.file_name)
            except UnsafeLandingPath as error:
                link = landing_zone.root / request.file_name
                if not link.is_symlink():
                    raise
                rejections.append(_reject(link, None, [Problem(str(error))], landing_zone, run_id))
                continue
            if not landed.is_file():
                raise MissingLandingFile(
                    f"Expected landing file {landed} does not exist; upstream has not delivered "
                    "it yet."
                )
            snapshot = archive.take_snapshot(landed, landing_zone.archive_root)
            try:
                problems = validate_landed_file(snapshot.path, request.table, request.month_start)
            except BaseException:
                archive.discard(snapshot)
                raise
            if problems:
                rejections.append(_reject(landed, snapshot, problems, landing_zone, run_id))
            else:
                snapshots.append(snapshot)
    except BaseException:
        for snapshot in snapshots:
            archive.discard(snapshot)
        raise
    if rejections:
        for snapshot in snapshots:
            archive.discard(snapshot)
        raise RejectedLandingFiles(rejections)
    return [archive.keep(snapshot, landing_zone.archive_root, run_id) for snapshot in snapshots]
