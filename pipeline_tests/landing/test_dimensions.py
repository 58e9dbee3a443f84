"""Bad dimension files: each is rejected naming the file, line, column and value (a key held twice
names the key and both lines, never resolved by row order), moved to quarantine beside its note, and
the stored table keeps its rows and content."""

import gzip
import hashlib
from collections.abc import Callable

import duckdb
import pytest

from pipeline.defs.raw.landed import LANDED_TABLES
from pipeline.defs.raw.tables import RAW_TABLES
from pipeline_tests.support import folder_asset, make_resources, materialize, read_note, step_failure_message

ASSETS = {table: folder_asset("raw", table) for table in LANDED_TABLES.whole}
# planes.csv line 2: N10156,2004,Fixed wing multi engine,EMBRAER,EMB-145XR,2,55,NA,Turbo-fan
# airports.csv line 2: 04G,Lansdowne Airport,41.1304722,-80.6195833,1044,-5,A,America/New_York
# airlines.csv line 13: UA,United Air Lines Inc.


def _append(line: bytes) -> Callable[[bytes], bytes]:
    return lambda data: data + line


Case = tuple[str, Callable[[bytes], bytes], list[str]]


def _bad_cell(table: str, line: int, column: str, value: bytes, says: str) -> Case:
    """A case writing ``value`` into one cell of ``table``'s file; the message names the line and column
    and then ``says``."""
    index = list(RAW_TABLES[table].csv_columns()).index(column)

    def make(data: bytes) -> bytes:
        lines = data.splitlines(keepends=True)
        fields = lines[line - 1].rstrip(b"\n").split(b",")
        fields[index] = value
        lines[line - 1] = b",".join(fields) + b"\n"
        return b"".join(lines)

    return table, make, [f"line {line}, column {column}: {says}"]


CASES: dict[str, Case] = {
    "a tail number twice, conflicting": (
        "planes",
        _append(b"N10156,2004,Fixed wing multi engine,BOEING,737-7H4,2,140,NA,Turbo-fan\n"),
        [
            "line 3324, column tailnum: duplicate key (tailnum='N10156'): lines 2 and 3324; conflicting "
            "values: manufacturer 'EMBRAER' vs 'BOEING'; model 'EMB-145XR' vs '737-7H4'; seats '55' vs '140'"
        ],
    ),
    "an airport code twice, conflicting": (
        "airports",
        _append(b"04G,Lansdowne,41.13,-80.62,1044,-5,A,America/New_York\n"),
        ["line 1460, column faa: duplicate key (faa='04G'): lines 2 and 1460; conflicting values: name"],
    ),
    "a carrier twice, conflicting": (
        "airlines",
        _append(b"UA,United Airlines\n"),
        [
            "line 18, column carrier: duplicate key (carrier='UA'): lines 13 and 18; conflicting values: "
            "name 'United Air Lines Inc.' vs 'United Airlines'"
        ],
    ),
    "a carrier twice, identical": (
        "airlines",
        _append(b"UA,United Air Lines Inc.\n"),
        ["line 18, column carrier: duplicate key (carrier='UA'): lines 13 and 18; the rows are identical"],
    ),
    "a fractional build year": _bad_cell(
        "planes", 2, "year", b"2004.5", "value '2004.5' is a decimal number, not an integer"
    ),
    "an unknown engine type": _bad_cell("planes", 2, "engine", b"Jet", "value 'Jet' breaks isin(["),
    "a latitude of 91": _bad_cell("airports", 2, "lat", b"91", "value '91' breaks in_range(-90, 90)"),
    "a decimal comma": _bad_cell("airports", 2, "tz", b'"-5,5"', "value '-5,5' is not a number"),
    "an unknown daylight saving rule": _bad_cell(
        "airports", 2, "dst", b"X", "value 'X' breaks isin(['A', 'U', 'N'])"
    ),
    "a lower-case carrier code": _bad_cell(
        "airlines", 13, "carrier", b"ua", "value 'ua' breaks str_matches('^[A-Z0-9]{2}$')"
    ),
    "a missing airline name": _bad_cell(
        "airlines", 13, "name", b"NA", "value NA (missing), but the column requires a value"
    ),
    "gzip bytes under the .csv name": (
        "airports",
        gzip.compress,
        ["line 1: the file is gzip-compressed but named .csv"],
    ),
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, seeded_landing):
    """The three dimensions loaded once; each test works on a copy of that warehouse."""
    root = tmp_path_factory.mktemp("dimensions")
    landing = root / "landing"
    landing.mkdir()
    for table in ASSETS:
        (landing / f"{table}.csv").write_bytes((seeded_landing / f"{table}.csv").read_bytes())
    assert materialize(list(ASSETS.values()), resources=make_resources(root, landing)).success
    return root / "warehouse.duckdb"


def fingerprint(database, table: str) -> tuple:
    """Rows and a hash of each column's content."""
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(
            f"select count(*), sum(hash(columns(* exclude (_loaded_at)))) from raw.{table}"
        ).fetchone()


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_a_bad_dimension_file_is_quarantined_and_the_table_kept(tmp_path, seeded_landing, loaded, case):
    table, make_bad, phrases = CASES[case]
    database = tmp_path / "warehouse.duckdb"
    database.write_bytes(loaded.read_bytes())
    before = fingerprint(database, table)
    landing = tmp_path / "landing"
    landing.mkdir()
    landed = landing / f"{table}.csv"
    bad = make_bad((seeded_landing / landed.name).read_bytes())
    landed.write_bytes(bad)

    result = materialize([ASSETS[table]], resources=make_resources(tmp_path, landing), raise_on_error=False)

    assert not result.success
    message = step_failure_message(result)
    assert f"{landed} was rejected" in message
    for phrase in phrases:
        assert phrase in message, message
    assert fingerprint(database, table) == before
    assert not landed.exists()
    [note_path] = (tmp_path / "quarantine").glob("*.reason.json")
    note = read_note(note_path)
    assert note["file"] == landed.name and note["sha256"] == hashlib.sha256(bad).hexdigest()
    assert note_path.with_name(note_path.name.removesuffix(".reason.json")).read_bytes() == bad
    for phrase in phrases:
        assert phrase in note["reason"]
