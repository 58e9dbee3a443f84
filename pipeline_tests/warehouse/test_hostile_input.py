"""Hostile configuration and file names: identifiers cannot inject SQL, paths cannot leave their
folders (no ``..``, no symbolic links), and quoting characters in paths are harmless."""

import shutil

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipeline.definitions import defs
from pipeline.landing.names import UnsafeLandingPath, resolve_landed_file
from pipeline.landing.resources import LandingZone
from pipeline.paths import UnsafeConfiguredPath
from pipeline.warehouse.identifiers import InvalidIdentifierError, qualified_table_name, validate_identifier
from pipeline.warehouse.io_manager import WarehouseIOManager
from pipeline.warehouse.resources import Warehouse
from pipeline_tests import support

FLIGHTS_JANUARY = "flights_2013-01.csv"


@pytest.mark.parametrize("name", ["raw", "flights", "_staging", "Carrier2", "x" * 63])
def test_plain_identifiers_pass(name):
    assert validate_identifier(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "raw; drop table raw.flights",
        'flights" --',
        "raw.flights",
        "2013_flights",
        "",
        "has space",
        "naïve",
        "x" * 64,
        "select",
        "FROM",
        None,
    ],
)
def test_anything_else_is_refused(name):
    with pytest.raises(InvalidIdentifierError, match=r"identifier|reserved"):
        validate_identifier(name)


def test_qualified_names_validate_both_parts():
    assert qualified_table_name("marts", "route_performance") == "marts.route_performance"
    with pytest.raises(InvalidIdentifierError, match="schema name"):
        qualified_table_name("marts;", "route_performance")


def test_a_schema_from_config_cannot_inject_sql(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute("create table canary as select 42 as answer")

    @dg.asset
    def carriers() -> pd.DataFrame:
        return pd.DataFrame({"carrier": ["AA", "UA"]})

    hostile = "x; drop table main.canary; --"
    result = support.materialize(
        [carriers],
        resources={"io_manager": WarehouseIOManager(database=str(database), schema=hostile)},
        raise_on_error=False,
    )

    assert not result.success
    assert "is not a valid SQL identifier" in support.step_failure_message(result)
    with duckdb.connect(str(database), read_only=True) as conn:
        assert conn.execute("select answer from canary").fetchall() == [(42,)]
        assert (
            conn.execute(
                "select schema_name from information_schema.schemata where schema_name like 'x%'"
            ).fetchall()
            == []
        )


@pytest.mark.parametrize(
    "name", ["../warehouse.duckdb", "..", ".", "", "sub/flights_2013-01.csv", "a\\b.csv", "x\0.csv"]
)
def test_landing_file_names_must_be_plain(tmp_path, name):
    with pytest.raises(UnsafeLandingPath, match="not a plain file name"):
        resolve_landed_file(tmp_path, name)


def test_a_landing_folder_entry_that_is_not_a_file_is_refused(tmp_path):
    (tmp_path / "airlines.csv").mkdir()
    with pytest.raises(UnsafeLandingPath, match="not a regular file"):
        resolve_landed_file(tmp_path, "airlines.csv")


def test_a_symlinked_landing_file_is_refused_and_quarantined(tmp_path, seeded_landing):
    outside = tmp_path / "outside" / FLIGHTS_JANUARY
    outside.parent.mkdir()
    shutil.copy(seeded_landing / FLIGHTS_JANUARY, outside)  # a perfectly valid file, elsewhere
    landing_dir = tmp_path / "landing"
    landing_dir.mkdir()
    (landing_dir / FLIGHTS_JANUARY).symlink_to(outside)

    result = support.load_flights(
        support.make_resources(tmp_path, landing_dir), "2013-01-01", raise_on_error=False
    )

    assert not result.success
    assert "is a symbolic link" in support.step_failure_message(result)
    assert support.stored_tables(tmp_path / "warehouse.duckdb") == [], (
        "the load rolled back: nothing is stored"
    )
    assert not (landing_dir / FLIGHTS_JANUARY).is_symlink()
    assert outside.read_bytes() == (seeded_landing / FLIGHTS_JANUARY).read_bytes()
    [note] = (tmp_path / "quarantine").glob("*.reason.json")
    assert support.read_note(note)["symlink_target"] == str(outside)


@pytest.mark.parametrize(
    "resource",
    [
        lambda tmp: LandingZone(path=str(tmp / "landing" / ".." / "elsewhere")).root,
        lambda tmp: LandingZone(path=str(tmp), quarantine_path="data/../../etc").quarantine_root,
        lambda tmp: LandingZone(path=str(tmp), archive_path="../archive").archive_root,
        lambda tmp: Warehouse(path=str(tmp / ".." / "warehouse.duckdb")).database,
    ],
    ids=["landing", "quarantine", "archive", "warehouse"],
)
def test_configured_paths_may_not_climb_out_with_dot_dot(tmp_path, resource):
    with pytest.raises(UnsafeConfiguredPath, match=r"contains '\.\.'"):
        resource(tmp_path)


def test_a_path_from_the_environment_may_not_climb_out(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDING_DIR", "data/landing/../../../etc")
    with pytest.raises(UnsafeConfiguredPath, match=r"\$LANDING_DIR"):
        _ = LandingZone().root


def test_a_run_configured_with_dot_dot_fails_before_reading_anything(tmp_path, seeded_landing):
    landing_dir = support.landing_with(tmp_path, seeded_landing, FLIGHTS_JANUARY)
    resources = support.make_resources(tmp_path, landing_dir)
    resources["landing_zone"] = LandingZone(path=str(tmp_path / "x" / ".." / "landing"))

    result = support.load_flights(resources, "2013-01-01", raise_on_error=False)

    assert not result.success
    assert "contains '..'" in support.step_failure_message(result)
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_quotes_and_semicolons_in_folder_names_are_only_names(tmp_path, seeded_landing):
    hostile = tmp_path / "landing'); drop table raw.flights; --"
    hostile.mkdir()
    shutil.copy(seeded_landing / FLIGHTS_JANUARY, hostile / FLIGHTS_JANUARY)

    result = support.load_flights(support.make_resources(tmp_path, hostile), "2013-01-01")

    assert result.success
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("select count(*) from raw.flights").fetchall() == [(27_004,)]


def test_column_names_from_check_config_cannot_inject_sql(tmp_path, built_warehouse):
    # A private copy: if the check were injectable, the shared warehouse must not pay for it.
    shutil.copy(built_warehouse["database"], tmp_path / "warehouse.duckdb")
    key = dg.AssetCheckKey(dg.AssetKey(["staging", "flights"]), "null_rates_within_thresholds")
    [checks] = [checks for checks in defs.asset_checks if key in checks.check_keys]
    hostile = "dep_delay_minutes) as x from raw.flights; drop table raw.flights; select (1"

    result = support.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.checks(key),
        resources=support.make_resources(tmp_path, tmp_path / "landing"),
        run_config={"ops": {checks.node_def.name: {"config": {"max_null_share": {hostile: 0.1}}}}},
        raise_on_error=False,
    )

    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert "names columns staging.flights does not have" in evaluation.description
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("select count(*) from raw.flights").fetchall() == [(336_776,)]
