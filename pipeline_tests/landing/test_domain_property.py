"""Property: a single corrupted cell is either refused naming its line and column, or stored exactly.

A valid monthly file (the first 200 flights of January) gets one cell replaced — decimals, signs,
exponents, whitespace, leading zeros, out-of-range clock values, random integers, empty, NA or
quoted — a few hundred times (seeded, so every run tries the same cells). Each version is validated
in process; an accepted one is loaded into a temporary DuckDB with the raw load's own SQL and every
stored value must equal the delivered text: the same integer written the same way, the same text,
NA as null. There is no third outcome: nothing is rounded, trimmed or guessed. The one-pass load
of a sound file (``checked_insert``) agrees on every version: it refuses what the diagnosis refuses,
leaving nothing behind, and stores what it accepts with the same values.
"""

import csv
import io
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pipeline.defs.raw.tables import FLIGHTS
from pipeline.landing.checked_insert import insert_if_sound
from pipeline.landing.domain import INTEGER_TYPES
from pipeline.landing.framing import check_framing
from pipeline.landing.ingest import inspect_landed_file, validate_landed_file
from pipeline.landing.load import insert_parsed
from pipeline.warehouse.type_handlers import create_table_sql

ROWS = 200
COLUMNS = list(FLIGHTS.csv_columns())
JANUARY = date(2013, 1, 1)


@pytest.fixture(scope="module")
def small_january(seeded_landing) -> list[list[str]]:
    """The header and the first 200 flights of January, as fields."""
    with open(seeded_landing / "flights_2013-01.csv", newline="") as handle:
        return [row for _, row in zip(range(ROWS + 1), csv.reader(handle), strict=False)]


def _corrupt(kind: str, text: str, number: int) -> str:
    """The cell's new field as written in the file (quoted for 'quoted')."""
    return {
        "decimal": f"{text}.5" if text != "NA" else f"{number}.5",
        "decimal zero": f"{number}.0",
        "plus sign": f"+{text}",
        "minus sign": f"-{text}",
        "exponent": f"{text}e0" if text != "NA" else f"{number}e2",
        "leading space": f" {text}",
        "trailing space": f"{text} ",
        "tab": f"{text}\t",
        "leading zero": f"0{text}",
        "clock value": str(abs(number) % 10_000),
        "small integer": str(number % 100),
        "integer": str(number),
        "empty": "",
        "NA": "NA",
        "quoted": f'"{text}"',
        "quoted with spaces": f'" {text} "',
        "lower case": text.lower(),
    }[kind]


KINDS = [
    "decimal",
    "decimal zero",
    "plus sign",
    "minus sign",
    "exponent",
    "leading space",
    "trailing space",
    "tab",
    "leading zero",
    "clock value",
    "small integer",
    "integer",
    "empty",
    "NA",
    "quoted",
    "quoted with spaces",
    "lower case",
]


def _stored(path: Path) -> list[tuple]:
    """The file loaded as the raw asset loads it (one parse, checked, inserted into the declared
    table), into a temporary database."""
    with duckdb.connect() as conn:
        assert inspect_landed_file(path, FLIGHTS, JANUARY, conn=conn).problems == []
        conn.execute(create_table_sql("main.flights", {c.name: c.type for c in FLIGHTS.columns}))
        insert_parsed(conn, "main.flights", {"source_file": path.name, "source_version": "test"})
        return conn.execute(
            "select * exclude (_source_file, _source_version, _loaded_at) from main.flights"
        ).fetchall()


def _loaded_in_one_pass(path: Path) -> list[tuple] | None:
    """The file loaded as a sound file is (``checked_insert``: parsed, checked and inserted in one
    statement), or None if that refused it; None leaves no row behind."""
    with duckdb.connect() as conn:
        conn.execute(create_table_sql("main.flights", {c.name: c.type for c in FLIGHTS.columns}))
        inserted = insert_if_sound(
            conn,
            "main.flights",
            FLIGHTS,
            path,
            JANUARY,
            check_framing(path),
            {"source_file": path.name, "source_version": "test"},
        )
        stored = conn.execute(
            "select * exclude (_source_file, _source_version, _loaded_at) from main.flights"
        ).fetchall()
    if inserted is None:
        assert stored == [], "a file refused by the one-pass load left rows behind"
        return None
    assert inserted == len(stored)
    return stored


def _equals_delivered(value, text: str, column: str) -> bool:
    if text == "NA":
        return value is None
    if FLIGHTS.column(column).type in INTEGER_TYPES:
        return isinstance(value, int) and str(value) == text
    return value == text


@pytest.mark.integration  # 300 validations: about 20 s on an idle 2-core machine, minutes under load
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    row=st.integers(1, ROWS),
    column=st.sampled_from(COLUMNS),
    kind=st.sampled_from(KINDS),
    number=st.integers(-40_000, 40_000),
)
def test_a_corrupted_cell_is_refused_at_its_line_and_column_or_stored_exactly(
    small_january, row, column, kind, number
):
    rows = [list(fields) for fields in small_january]
    index = COLUMNS.index(column)
    field = _corrupt(kind, rows[row][index], number)
    rows[row][index] = field
    # Written by hand, not with csv.writer: the corrupted field goes into the file as it is.
    data = "".join(",".join(fields) + "\n" for fields in rows).encode()
    line = row + 1  # the header is line 1

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flights_2013-01.csv"
        path.write_bytes(data)
        problems = validate_landed_file(path, FLIGHTS, JANUARY)
        in_one_pass = _loaded_in_one_pass(path)
        if problems:
            assert in_one_pass is None, f"{kind} {field!r} in {column}: refused, but loaded in one pass"
            named = [
                problem
                for problem in problems
                if column in (problem.column or "").split(", ")
                and (problem.line == line or f" {line} and " in problem.message)
            ]
            assert named, f"{kind} {field!r} in {column} at line {line} refused without naming it: {problems}"
            event(f"refused: {kind}")
            return
        stored = _stored(path)
        assert in_one_pass == stored, f"{kind} {field!r} in {column}: the one-pass load stored other values"

    event(f"accepted: {kind}")
    delivered = list(csv.reader(io.StringIO(data.decode())))[1:]
    assert len(stored) == len(delivered) == ROWS
    for stored_row, delivered_row in zip(stored, delivered, strict=True):
        for name, value, text in zip(COLUMNS, stored_row, delivered_row, strict=True):
            assert _equals_delivered(value, text, name), (
                f"{kind} {field!r} in {column} at line {line} was accepted but {name} stored {value!r} "
                f"for the delivered {text!r}"
            )
