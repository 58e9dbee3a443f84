"""The one-pass load of a sound file (``checked_insert``): all of a sound month goes in, read back
as its delivered text; anything the diagnosis must look at leaves no row behind and other files'
rows untouched. (That it refuses exactly what the diagnosis refuses is the property test's.)"""

import csv
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.defs.raw.tables import FLIGHTS
from pipeline.landing.checked_insert import insert_if_sound
from pipeline.landing.framing import check_framing
from pipeline.landing.ingest import validate_landed_file
from pipeline.warehouse.type_handlers import create_table_sql

JANUARY = date(2013, 1, 1)
JANUARY_ROWS = 27_004


def _load(conn: duckdb.DuckDBPyConnection, path: Path, name: str) -> int | None:
    lineage = {"source_file": name, "source_version": "test"}
    return insert_if_sound(conn, "main.flights", FLIGHTS, path, JANUARY, check_framing(path), lineage)


@pytest.fixture
def warehouse() -> duckdb.DuckDBPyConnection:
    with duckdb.connect() as conn:
        conn.execute(create_table_sql("main.flights", {c.name: c.type for c in FLIGHTS.columns}))
        yield conn


def test_a_sound_month_goes_in_whole_and_reads_back_as_the_delivered_text(warehouse, seeded_landing):
    january = seeded_landing / "flights_2013-01.csv"

    assert _load(warehouse, january, january.name) == JANUARY_ROWS

    assert warehouse.execute("select count(*) from main.flights").fetchall() == [(JANUARY_ROWS,)]
    with open(january, newline="") as handle:
        delivered = [
            tuple(None if text == "NA" else text for text in row) for row in list(csv.reader(handle))[1:]
        ]
    landed = warehouse.execute("select * from landed").fetchall()
    assert sorted(landed, key=str) == sorted(delivered, key=str)


def _duplicate_a_line(lines: list[bytes]) -> list[bytes]:
    return [*lines, lines[500]]


def _break_a_clock_time(lines: list[bytes]) -> list[bytes]:
    fields = lines[500].split(b",")
    fields[3] = b"2461"  # dep_time: minutes over 59
    return [*lines[:500], b",".join(fields), *lines[501:]]


def _blank_line_inside(lines: list[bytes]) -> list[bytes]:
    return [*lines[:500], b"\n", *lines[500:]]


def _spaces_after_the_last_record(lines: list[bytes]) -> list[bytes]:
    return [*lines, b"   \n"]


@pytest.mark.parametrize(
    ("change", "diagnosis_refuses"),
    [
        (_duplicate_a_line, True),
        (_break_a_clock_time, True),
        (_blank_line_inside, True),
        (_spaces_after_the_last_record, False),  # accepted with a note, by the diagnosis only
    ],
)
def test_a_file_that_is_not_sound_leaves_no_row_and_other_files_rows_untouched(
    warehouse, seeded_landing, tmp_path, change: Callable[[list[bytes]], list[bytes]], diagnosis_refuses
):
    january = seeded_landing / "flights_2013-01.csv"
    assert _load(warehouse, january, "earlier.csv") == JANUARY_ROWS
    before = warehouse.execute("select * from main.flights order by all").fetchall()
    changed = tmp_path / "flights_2013-01.csv"
    changed.write_bytes(b"".join(change(january.read_bytes().splitlines(keepends=True))))

    assert _load(warehouse, changed, changed.name) is None

    assert warehouse.execute("select * from main.flights order by all").fetchall() == before
    assert bool(validate_landed_file(changed, FLIGHTS, JANUARY)) == diagnosis_refuses
