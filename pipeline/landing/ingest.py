"""What is wrong with a landed file: the diagnosis, naming each problem's line, column and value.

A file (``<name>.csv``, or the same delivery gzip-compressed as ``<name>.csv.gz``) is checked
against its raw table's declaration (the ``Table`` the caller hands in, the single statement of the
contract):

1. its framing (``framing.py``): not empty, compressed exactly when its name says so, every line
   complete, no blank lines, a UTF-8 header naming exactly the expected columns in order;
2. its structure: DuckDB parses it once with every column as VARCHAR into a temporary table, read
   as the view ``landed`` (``sql/parse_landed_file.sql``, ``sql/number_records.sql``) with
   ``store_rejects``: every row has the right number
   of fields and valid UTF-8, no value spans lines, and there is at least one data row;
3. its values (``domain.py``), once the structure is sound: every value's text against its
   column's type and rules, the agreements between a row's values, the file's month, the key.

Problems name the file, line, column and value. The load (``load.py``) first tries the one-pass
insert of a sound file (``checked_insert.py``, the same rules); a file it does not take is
diagnosed here on the warehouse's own connection inside the write transaction, and inserted from
``landed`` if there are no problems after all (blank lines after the last record, say);
``validate_landed_file`` runs the diagnosis on a private connection (tests, the benchmark's floor).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipeline.landing import domain, framing, keys
from pipeline.landing.quarantine import Problem
from pipeline.landing.timing import phase
from pipeline.warehouse.connection import DEFAULT_MEMORY_LIMIT, DEFAULT_THREADS
from pipeline.warehouse.sql_files import Fixed, load_sql
from pipeline.warehouse.tables import Table

MAX_PROBLEMS_REPORTED = 10


@dataclass(frozen=True)
class Inspection:
    """What checking one file found: its problems, and for the guard its rows and key values."""

    problems: list[Problem]
    rows: int = 0
    keys: frozenset[str] | None = None
    notes: tuple[str, ...] = ()  # accepted, worth knowing: blank lines at the end, no final line break


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


def _parse(conn: duckdb.DuckDBPyConnection, path: Path, columns: list[str]) -> None:
    """Parse the file into the view ``landed`` (text, numbered), its rejected lines in reject_errors."""
    # DuckDB appends every store_rejects scan of a connection to the same tables.
    conn.execute("drop table if exists reject_errors").fetchall()
    conn.execute("drop table if exists reject_scans").fetchall()
    conn.execute(
        load_sql(
            domain.SQL_DIR, "parse_landed_file", landed_csv=Fixed(load_sql(domain.SQL_DIR, "landed_csv"))
        ),
        {"path": str(path), "columns": dict.fromkeys(columns, "VARCHAR")},
    ).fetchall()
    conn.execute(load_sql(domain.SQL_DIR, "number_records")).fetchall()


def _check_parsed(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    declared: Table,
    month_start: date | None,
    framed: framing.Framing,
) -> Inspection:
    with phase("parse"):
        _parse(conn, path, list(declared.csv_columns()))
        rejected = conn.execute(load_sql(domain.SQL_DIR, "rejected_rows")).fetchall()
        rows = conn.execute("select count(*) from landed_text").fetchall()[0][0]
    # Blank lines are looked for only when the parse says a line is off: DuckDB skips an empty
    # line (a record fewer than the lines) and rejects a whitespace-only one. Blank lines after the
    # last record are accepted (framing.py), DuckDB's rejects of them with them.
    lines = framed.record_lines
    with phase("blank lines"):
        blank = framing.blank_lines(path, lines) if rejected or lines != rows + 1 else []
    blank_lines = {problem.line for problem in blank}
    rejects = [
        _row_problem(*row)
        for row in rejected
        if row[0] not in blank_lines and row[0] <= lines  # a blank line is reported once, as blank
    ]
    problems = blank + rejects
    if rows == 0 and not problems:
        return Inspection([Problem("the file has a header but no data rows", line=1)])
    if not problems and lines != rows + 1:
        problems = framing.multiline_records(path, MAX_PROBLEMS_REPORTED)
    if not problems:  # every record is on its own line: record n is line n + 2
        with phase("value and key checks"):  # one scan counts both
            problems, surplus_key_rows = domain.check_values(conn, declared, month_start)
        if surplus_key_rows:
            with phase("repeated keys told"):
                problems += keys.duplicate_keys(conn, declared)
        problems += framing.cut_last_record(framed, problems)
    with phase("key values"):
        key_values = keys.key_values(conn, declared) if not problems else None
    ordered = sorted(problems, key=lambda problem: problem.line or 0)
    return Inspection(ordered, rows, key_values, tuple(framed.notes))


def frame_landed_file(path: Path, table: Table) -> framing.Framing:
    """Step 1 alone, from the bytes (no DuckDB): the framing, and the header when that is sound. A
    load runs it for the next file while DuckDB checks this one."""
    with phase("framing scan"):
        framed = framing.check_framing(path)
        header = [] if framed.fatal else framing.check_header(path, list(table.csv_columns()))
    if header:
        framed.problems.extend(header)
        framed.fatal = True
    return framed


def inspect_landed_file(
    path: Path,
    table: Table,
    month_start: date | None = None,
    *,
    conn: duckdb.DuckDBPyConnection | None = None,
    framed: framing.Framing | None = None,
) -> Inspection:
    """Check the file at ``path`` as a source of the raw ``table`` (see the module's steps).

    With ``conn``, the file is parsed on that connection and, if it has no problems, stays parsed
    as the view ``landed`` for the caller to insert. ``framed``: step 1's findings, if the caller
    has them already (``frame_landed_file``).
    """
    if framed is None:
        framed = frame_landed_file(path, table)
    if framed.fatal:
        return Inspection(framed.problems)
    if conn is not None:
        return _check_parsed(conn, path, table, month_start, framed)
    with duckdb.connect(config={"threads": DEFAULT_THREADS, "memory_limit": DEFAULT_MEMORY_LIMIT}) as own:
        return _check_parsed(own, path, table, month_start, framed)


def validate_landed_file(path: Path, table: Table, month_start: date | None = None) -> list[Problem]:
    """Everything wrong with the file at ``path`` as a source of the raw ``table``; empty if fine."""
    return inspect_landed_file(path, table, month_start).problems
