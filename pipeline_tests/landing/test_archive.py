"""Corrections and re-deliveries: a corrected month replaces the stored one, the replaced version
stays in the archive for audit, and loading the same file again changes nothing."""

import hashlib

import dagster as dg
import duckdb
import pytest

from pipeline.landing.archive import archived_versions
from pipeline_tests.support import landing_with, load_flights, make_resources

JANUARY = "2013-01-01"
FLIGHTS_JANUARY = "flights_2013-01.csv"


@pytest.fixture
def landing_with_january(tmp_path, seeded_landing):
    landing_dir = landing_with(tmp_path, seeded_landing, FLIGHTS_JANUARY)
    return landing_dir


def load_january(resources) -> dg.ExecuteInProcessResult:
    result = load_flights(resources, JANUARY)
    assert result.success
    return result


def source_files_metadata(result) -> list[dict]:
    [materialization] = result.asset_materializations_for_node("raw__flights")
    return materialization.metadata["source_files"].data


def stored_january(database) -> tuple[int, int]:
    """Rows and total departure delay of January as the warehouse holds it."""
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute("select count(*), sum(dep_delay) from raw.flights where month = 1").fetchall()[0]


def source_january(path) -> tuple[int, int]:
    """The same figures straight from a CSV file, independently of the pipeline."""
    with duckdb.connect() as conn:
        return conn.execute(
            "select count(*), sum(dep_delay) from read_csv(?, nullstr = 'NA')", [str(path)]
        ).fetchall()[0]


def test_a_correction_replaces_the_month_and_the_old_version_stays_for_audit(tmp_path, landing_with_january):
    resources = make_resources(tmp_path, landing_with_january)
    landed = landing_with_january / FLIGHTS_JANUARY
    original = landed.read_bytes()
    first = load_january(resources)
    replaced = stored_january(tmp_path / "warehouse.duckdb")
    assert replaced == source_january(landed)

    # Upstream corrects January: the last flight is withdrawn and one delay is restated.
    lines = original.splitlines(keepends=True)
    fields = lines[1].split(b",")
    assert (fields[3], fields[4], fields[5]) == (b"517", b"515", b"2")
    # The first flight left at 07:20, not 05:17: its delay is restated with it, 2 -> 125 minutes
    # (ingest refuses a delay that disagrees with the departure and scheduled times).
    fields[3], fields[5] = b"720", b"125"
    corrected = b"".join([lines[0], b",".join(fields), *lines[2:-1]])
    landed.write_bytes(corrected)
    second = load_january(resources)

    expected = source_january(landed)
    assert stored_january(tmp_path / "warehouse.duckdb") == expected
    assert expected[0] == 27_003

    versions = archived_versions(resources["landing_zone"].archive_root, FLIGHTS_JANUARY)
    assert [version.path.read_bytes() for version in versions] == [original, corrected]
    assert [version.sha256 for version in versions] == [
        hashlib.sha256(original).hexdigest(),
        hashlib.sha256(corrected).hexdigest(),
    ]
    assert [version.run_id for version in versions] == [first.run_id, second.run_id]
    assert source_january(versions[0].path) == replaced
    assert [entry["sha256"] for entry in source_files_metadata(first)] == [versions[0].sha256]
    assert [entry["sha256"] for entry in source_files_metadata(second)] == [versions[1].sha256]


def test_loading_the_same_file_twice_is_idempotent(tmp_path, landing_with_january):
    resources = make_resources(tmp_path, landing_with_january)

    def stored_rows():
        with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
            return conn.execute("select * exclude (_loaded_at) from raw.flights order by all").fetchall()

    load_january(resources)
    once = stored_rows()
    load_january(resources)

    assert stored_rows() == once
    assert len(once) == 27_004
    versions = archived_versions(resources["landing_zone"].archive_root, FLIGHTS_JANUARY)
    assert len(versions) == 1
    assert (landing_with_january / FLIGHTS_JANUARY).exists(), "accepted files stay in landing"


def test_each_load_records_the_archived_version_it_read(tmp_path, landing_with_january):
    resources = make_resources(tmp_path, landing_with_january)
    result = load_january(resources)

    [entry] = source_files_metadata(result)
    archived = archived_versions(resources["landing_zone"].archive_root, FLIGHTS_JANUARY)[0]
    assert entry == {
        "file": FLIGHTS_JANUARY,
        "sha256": archived.sha256,
        "archived_copy": str(archived.path),
    }
    assert not list((resources["landing_zone"].archive_root / ".incoming").iterdir())
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("select distinct _source_file from raw.flights").fetchall() == [
            (FLIGHTS_JANUARY,)
        ]
