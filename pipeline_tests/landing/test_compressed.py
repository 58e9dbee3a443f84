"""Compressed deliveries: ``<name>.csv.gz`` loads as the same table and month, the archive keeps the
bytes as delivered, and a cut-off or mislabelled stream is rejected like any bad file."""

import gzip
import shutil

import dagster as dg
import duckdb
import pytest

from pipeline.definitions import defs
from pipeline.landing.archive import archived_versions
from pipeline_tests import support
from pipeline_tests.support import load_flights, make_resources, materialize, read_note, step_failure_message

JANUARY = "2013-01-01"
FLIGHTS_JANUARY = "flights_2013-01.csv"


def content(database, table: str = "flights") -> list[tuple]:
    """Every stored row but its lineage, in a stable order."""
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(
            f"select * exclude (_loaded_at, _source_file, _source_version) from raw.{table} order by all"
        ).fetchall()


@pytest.fixture
def gz_landing(tmp_path, seeded_landing):
    landing = tmp_path / "landing"
    landing.mkdir()
    delivered = gzip.compress((seeded_landing / FLIGHTS_JANUARY).read_bytes())
    (landing / f"{FLIGHTS_JANUARY}.gz").write_bytes(delivered)
    return {"landing": landing, "delivered": delivered, "resources": make_resources(tmp_path, landing)}


def test_a_gzip_month_loads_as_the_plain_file_would_and_is_archived_as_delivered(
    tmp_path, seeded_landing, gz_landing
):
    result = load_flights(gz_landing["resources"], JANUARY)

    assert result.success
    plain = tmp_path / "plain"
    (plain / "landing").mkdir(parents=True)
    shutil.copy(seeded_landing / FLIGHTS_JANUARY, plain / "landing" / FLIGHTS_JANUARY)
    assert load_flights(make_resources(plain, plain / "landing"), JANUARY).success
    stored = content(tmp_path / "warehouse.duckdb")
    assert len(stored) == 27_004
    assert stored == content(plain / "warehouse.duckdb")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("select distinct _source_file from raw.flights").fetchall() == [
            (f"{FLIGHTS_JANUARY}.gz",)
        ]
    [version] = archived_versions(
        gz_landing["resources"]["landing_zone"].archive_root, f"{FLIGHTS_JANUARY}.gz"
    )
    assert version.path.read_bytes() == gz_landing["delivered"]


def test_staging_accepts_rows_from_a_gzip_delivery(tmp_path, seeded_landing, gz_landing):
    shutil.copy(seeded_landing / "airports.csv", gz_landing["landing"] / "airports.csv")
    result = materialize(
        list(defs.assets),
        selection=dg.AssetSelection.assets(["staging", "flights"]).upstream(),
        partition_key=JANUARY,
        resources=gz_landing["resources"],
    )

    assert result.success
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("select count(*), any_value(_source_file) from staging.flights").fetchone() == (
            27_004,
            f"{FLIGHTS_JANUARY}.gz",
        )


def test_the_same_month_delivered_plain_and_compressed_loads_neither(tmp_path, seeded_landing, gz_landing):
    plain = gz_landing["landing"] / FLIGHTS_JANUARY
    shutil.copy(seeded_landing / FLIGHTS_JANUARY, plain)

    result = load_flights(gz_landing["resources"], JANUARY, raise_on_error=False)

    assert not result.success
    message = step_failure_message(result)
    assert f"Both {plain} and {plain}.gz have landed: two deliveries of the same data" in message
    assert plain.exists() and (gz_landing["landing"] / f"{FLIGHTS_JANUARY}.gz").exists()
    assert not (tmp_path / "quarantine").exists()
    assert support.stored_tables(tmp_path / "warehouse.duckdb") == [], (
        "the load rolled back: nothing is stored"
    )


@pytest.mark.parametrize(
    ("make", "phrase"),
    [
        (lambda data: gzip.compress(data)[:-500], "the gzip stream ends early: the file is truncated"),
        (lambda data: data, "line 1: the name ends in .csv.gz but the bytes are not gzip-compressed"),
        (lambda data: gzip.compress(data.replace(b",EWR,", b",ewr,", 1)), "column origin: value 'ewr'"),
    ],
    ids=["cut-off stream", "plain bytes", "bad value inside"],
)
def test_a_bad_gzip_delivery_is_quarantined(tmp_path, seeded_landing, make, phrase):
    landing = tmp_path / "landing"
    landing.mkdir()
    landed = landing / f"{FLIGHTS_JANUARY}.gz"
    bad = make((seeded_landing / FLIGHTS_JANUARY).read_bytes())
    landed.write_bytes(bad)

    result = load_flights(make_resources(tmp_path, landing), JANUARY, raise_on_error=False)

    assert not result.success
    message = step_failure_message(result)
    assert f"{landed} was rejected" in message and phrase in message
    [note_path] = (tmp_path / "quarantine").glob("*.reason.json")
    assert read_note(note_path)["file"] == landed.name
    assert note_path.with_name(note_path.name.removesuffix(".reason.json")).read_bytes() == bad
    assert support.stored_tables(tmp_path / "warehouse.duckdb") == [], (
        "the load rolled back: nothing is stored"
    )
