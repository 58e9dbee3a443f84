"""Bad landed files: each one fails the run with the file, line and column named, is moved to
quarantine beside a note of the reason, and leaves the stored partitions exactly as they were."""

import hashlib
import shutil
from collections.abc import Callable
from datetime import date

import dagster as dg
import duckdb
import pytest

from pipeline.defs.raw import assets as raw
from pipeline.landing.ingest import validate_landed_file
from pipeline_tests.conftest import read_note
from pipeline_tests.conftest import make_resources, step_failure_message

JANUARY = "2013-01-01"
FLIGHTS_JANUARY = "flights_2013-01.csv"
FLIGHTS_JANUARY_ROWS = 27_004


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _replace_field(line: bytes, index: int, value: bytes) -> bytes:
    fields = line.rstrip(b"\n").split(b",")
    fields[index] = value
    return b",".join(fields) + b"\n"


def _drop_field(line: bytes, index: int) -> bytes:
    fields = line.rstrip(b"\n").split(b",")
    del fields[index]
    return b",".join(fields) + b"\n"


def wrong_field_count(data: bytes) -> bytes:
    lines = _lines(data)
    lines[10] = lines[10].rstrip(b"\n") + b",surplus\n"
    return b"".join(lines)


def text_in_numeric_column(data: bytes) -> bytes:
    lines = _lines(data)
    lines[6] = _replace_field(lines[6], 5, b"late")  # dep_delay
    return b"".join(lines)


def empty(data: bytes) -> bytes:
    return b""


def header_only(data: bytes) -> bytes:
    return _lines(data)[0]


def non_utf8_bytes(data: bytes) -> bytes:
    lines = _lines(data)
    lines[20] = _replace_field(lines[20], 12, b"EW\xff\xfeR")  # origin, Latin-1 style bytes
    return b"".join(lines)


def missing_column(data: bytes) -> bytes:
    return b"".join(_drop_field(line, 5) for line in _lines(data))  # dep_delay everywhere


def renamed_column(data: bytes) -> bytes:
    lines = _lines(data)
    lines[0] = lines[0].replace(b",dep_delay,", b",departure_delay,")
    return b"".join(lines)


def extra_column(data: bytes) -> bytes:
    lines = _lines(data)
    return b"".join(
        [lines[0].rstrip(b"\n") + b",source\n"]
        + [line.rstrip(b"\n") + b",feed\n" for line in lines[1:]]
    )


def reordered_columns(data: bytes) -> bytes:
    lines = _lines(data)
    header = lines[0].rstrip(b"\n").split(b",")
    header[3], header[4] = header[4], header[3]  # dep_time <-> sched_dep_time, data left as it was
    return b",".join(header) + b"\n" + b"".join(lines[1:])


def truncated_mid_line(data: bytes) -> bytes:
    return data[: len(data) - 12]  # cuts into the last line's time_hour


def row_from_another_month(data: bytes) -> bytes:
    lines = _lines(data)
    lines[4] = _replace_field(lines[4], 1, b"2")  # month
    return b"".join(lines)


def impossible_date(data: bytes) -> bytes:
    lines = _lines(data)
    lines[8] = _replace_field(lines[8], 2, b"32")  # day
    return b"".join(lines)


BAD_FILES: dict[str, tuple[Callable[[bytes], bytes], list[str]]] = {
    "wrong field count": (wrong_field_count, ["line 11", "expected 19 fields, found 20"]),
    "text in a numeric column": (
        text_in_numeric_column,
        ["line 7, column dep_delay", 'Could not convert string "late"'],
    ),
    "empty file": (empty, ["the file is empty (0 bytes)"]),
    "header only": (header_only, ["line 1", "header but no data rows"]),
    "non-UTF-8 bytes": (non_utf8_bytes, ["line 21, column origin", "not valid UTF-8"]),
    "missing column": (missing_column, ["line 1, column dep_delay", "missing columns ['dep_delay']"]),
    "renamed column": (
        renamed_column,
        ["line 1, column dep_delay", "'dep_delay' is named 'departure_delay'"],
    ),
    "extra column": (extra_column, ["line 1, column source", "unexpected columns ['source']"]),
    "reordered columns": (reordered_columns, ["line 1", "columns are out of order"]),
    "truncated file": (
        truncated_mid_line,
        [f"line {FLIGHTS_JANUARY_ROWS + 1}", "truncated or was still being written"],
    ),
    "row dated in another month": (
        row_from_another_month,
        ["line 5, column month", "dated 2013-02-01, outside the file's month 2013-01"],
    ),
    "impossible date": (impossible_date, ["line 9, column day", "2013-01-32 is not a valid date"]),
}


@pytest.fixture
def january(tmp_path, seeded_landing):
    """A warehouse holding January's flights, loaded from a landing folder with only that file."""
    landing_dir = tmp_path / "landing"
    landing_dir.mkdir()
    shutil.copy(seeded_landing / FLIGHTS_JANUARY, landing_dir / FLIGHTS_JANUARY)
    resources = make_resources(tmp_path, landing_dir)
    assert dg.materialize([raw.raw_flights], partition_key=JANUARY, resources=resources).success
    return {
        "landing": landing_dir,
        "resources": resources,
        "database": tmp_path / "warehouse.duckdb",
        "quarantine": tmp_path / "quarantine",
        "good_bytes": (seeded_landing / FLIGHTS_JANUARY).read_bytes(),
    }


def stored_flights(database) -> list[tuple]:
    """Per month: rows, distinct load times and a checksum of the rows' content."""
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(
            """
            select month, count(*), count(distinct _loaded_at),
                   sum(hash(columns(* exclude (_loaded_at, _source_file))))
            from raw.flights group by month order by month
            """
        ).fetchall()


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_file_is_quarantined_and_the_month_is_unchanged(january, case):
    make_bad, expected_phrases = BAD_FILES[case]
    bad_bytes = make_bad(january["good_bytes"])
    before = stored_flights(january["database"])
    landed = january["landing"] / FLIGHTS_JANUARY
    landed.write_bytes(bad_bytes)

    result = dg.materialize(
        [raw.raw_flights],
        partition_key=JANUARY,
        resources=january["resources"],
        raise_on_error=False,
    )

    assert not result.success
    message = step_failure_message(result)
    assert str(landed) in message
    for phrase in expected_phrases:
        assert phrase in message
    assert stored_flights(january["database"]) == before
    assert before[0][:2] == (1, FLIGHTS_JANUARY_ROWS)

    assert not landed.exists(), "a rejected file must leave the landing folder"
    [note_path] = january["quarantine"].glob("*.reason.json")
    note = read_note(note_path)
    quarantined = note_path.with_name(note_path.name.removesuffix(".reason.json"))
    assert quarantined.read_bytes() == bad_bytes, "the rejected bytes are kept as they landed"
    assert quarantined.name.endswith(FLIGHTS_JANUARY) and note["file"] == FLIGHTS_JANUARY
    assert note["original_path"] == str(landed)
    assert note["quarantined_path"] == str(quarantined)
    assert note["sha256"] == hashlib.sha256(bad_bytes).hexdigest()
    assert note["size_bytes"] == len(bad_bytes)
    assert note["run_id"] == result.run_id
    assert note["quarantined_at"]
    for phrase in expected_phrases:
        assert phrase in note["reason"]
    assert str(quarantined) in message and str(note_path) in message


def test_every_bad_row_is_reported_with_its_line_and_column(tmp_path, seeded_landing):
    lines = _lines((seeded_landing / FLIGHTS_JANUARY).read_bytes())
    for index in (99, 199, 299):
        lines[index] = _replace_field(lines[index], 15, b"far")  # distance
    path = tmp_path / FLIGHTS_JANUARY
    path.write_bytes(b"".join(lines))

    problems = validate_landed_file(path, "flights", month_start=None)

    assert [(problem.line, problem.column) for problem in problems] == [
        (100, "distance"),
        (200, "distance"),
        (300, "distance"),
    ]


def test_a_good_file_has_no_problems(seeded_landing):
    assert validate_landed_file(seeded_landing / FLIGHTS_JANUARY, "flights", date(2013, 1, 1)) == []
    assert validate_landed_file(seeded_landing / "weather_2013-07.csv", "weather", date(2013, 7, 1)) == []
    assert validate_landed_file(seeded_landing / "planes.csv", "planes") == []


def test_one_bad_month_in_a_multi_month_run_loads_nothing(tmp_path, seeded_landing):
    landing_dir = tmp_path / "landing"
    landing_dir.mkdir()
    for name in ("flights_2013-01.csv", "flights_2013-02.csv"):
        shutil.copy(seeded_landing / name, landing_dir / name)
    february = landing_dir / "flights_2013-02.csv"
    february.write_bytes(text_in_numeric_column(february.read_bytes()))

    result = dg.materialize(
        [raw.raw_flights],
        resources=make_resources(tmp_path, landing_dir),
        tags={
            "dagster/asset_partition_range_start": "2013-01-01",
            "dagster/asset_partition_range_end": "2013-02-01",
        },
        raise_on_error=False,
    )

    assert not result.success
    assert "flights_2013-02.csv" in step_failure_message(result)
    assert not (tmp_path / "warehouse.duckdb").exists(), "the warehouse is not even opened"
    assert (landing_dir / "flights_2013-01.csv").exists(), "the good month stays in landing"
    assert not february.exists()
    notes = [note.name for note in (tmp_path / "quarantine").glob("*.reason.json")]
    assert len(notes) == 1 and notes[0].endswith("_flights_2013-02.csv.reason.json")


def test_a_bad_dimension_file_is_quarantined_and_the_table_kept(tmp_path, seeded_landing):
    landing_dir = tmp_path / "landing"
    landing_dir.mkdir()
    airlines = landing_dir / "airlines.csv"
    shutil.copy(seeded_landing / "airlines.csv", airlines)
    resources = make_resources(tmp_path, landing_dir)
    assert dg.materialize([raw.raw_airlines], resources=resources).success
    airlines.write_bytes(b"carrier\n9E\nAA\n")

    result = dg.materialize([raw.raw_airlines], resources=resources, raise_on_error=False)

    assert not result.success
    assert "missing columns ['name']" in step_failure_message(result)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("select count(*) from raw.airlines").fetchall()[0][0] == 16
    assert len(list((tmp_path / "quarantine").glob("*_airlines.csv"))) == 1
