"""Asset checks: every asset has one; each passes on the real data (or reports the known findings
of the 2013 source as warnings, checked against the source files), and fails with a clear
description and metadata on crafted bad input. A blocking failure stops the downstream steps of
the run and leaves the stored tables as they were; thresholds can be changed per run."""

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from pipeline.definitions import defs
from pipeline.defs.reports.store import ReportStore
from pipeline.warehouse.connection import connect
from pipeline.warehouse.io_manager import WarehouseIOManager
from pipeline.warehouse.resources import Warehouse
from pipeline_tests.support import make_resources, materialize

JANUARY = "2013-01-01"
WARN = dg.AssetCheckSeverity.WARN
ERROR = dg.AssetCheckSeverity.ERROR
# The three findings the 2013 source really has (see the individual tests below).
KNOWN_FINDINGS = {
    ("raw/airports", "flight_airports_present"),
    ("staging/flights", "airports_from_reference_supplement"),
    ("staging/weather", "readings_plausible"),
}


def check_key(asset: str, name: str) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(dg.AssetKey(asset.split("/")), name)


def op_name(key: dg.AssetCheckKey) -> str:
    return next(checks for checks in defs.asset_checks if key in checks.check_keys).node_def.name


def run_checks(resources, *keys: dg.AssetCheckKey, run_config=None, partition_key=None, instance=None):
    """Only the given checks, against whatever the warehouse holds; in a run of one month if given."""
    return materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.checks(*keys),
        resources=resources,
        run_config=run_config,
        # A run of checks alone has no asset to take a partitions definition from: tag it.
        tags={"dagster/partition": partition_key} if partition_key else None,
        instance=instance,
        raise_on_error=False,
    )


def evaluation(result: dg.ExecuteInProcessResult, asset: str, name: str):
    [found] = [
        e
        for e in result.get_asset_check_evaluations()
        if (e.asset_key.to_user_string(), e.check_name) == (asset, name)
    ]
    return found


def metadata(check_evaluation) -> dict:
    return {key: value.value for key, value in check_evaluation.metadata.items()}


@pytest.fixture
def warehouse_copy(tmp_path, built_warehouse, seeded_landing):
    """Resources over a private copy of the built warehouse, to tamper with."""
    database = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse["database"], database)
    return {
        **built_warehouse["resources"],
        "io_manager": WarehouseIOManager(database=str(database)),
        "warehouse": Warehouse(path=str(database)),
    }


def tamper(resources, sql: str) -> None:
    with connect(resources["warehouse"].database) as conn:
        conn.execute(sql).fetchall()


def check_after(resources, tampering: str, asset: str, name: str, partition_key=None):
    """The evaluation of check ``name`` of ``asset`` run after ``tampering`` with the warehouse (in a run
    of one month if ``partition_key`` is given)."""
    tamper(resources, tampering)
    return evaluation(run_checks(resources, check_key(asset, name), partition_key=partition_key), asset, name)


# --- definitions -----------------------------------------------------------------------------------


def test_every_materialized_asset_has_a_check():
    """Every table and the report; landing/zone is the folder itself, observed, never materialized."""
    checked = {key.asset_key for checks in [*defs.asset_checks, *defs.assets] for key in checks.check_keys}
    graph = defs.resolve_asset_graph()
    materialized = {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    assert materialized - checked == set()
    assert dg.AssetKey(["landing", "zone"]) not in materialized


def test_each_check_states_its_severity_and_whether_it_blocks():
    for checks in defs.asset_checks:
        for spec in checks.check_specs:
            assert spec.description.startswith(("ERROR", "WARN")), spec.key
            assert spec.blocking == spec.description.startswith("ERROR, blocking"), spec.key


# --- real data -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_evaluations(built_warehouse) -> dict:
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in built_warehouse["result"].get_asset_check_evaluations()
    }


def test_every_check_ran_on_the_real_data_and_only_the_known_findings_fail(real_evaluations):
    all_checks = {
        (key.asset_key.to_user_string(), key.name)
        for checks in [*defs.asset_checks, *defs.assets]  # checks of their own and checks on an asset
        for key in checks.check_keys
    }
    assert set(real_evaluations) == all_checks
    failed = {key for key, e in real_evaluations.items() if not e.passed}
    assert failed == KNOWN_FINDINGS
    assert {real_evaluations[key].severity for key in failed} == {WARN}
    assert all(metadata(e)["failing_rows"] == 0 for key, e in real_evaluations.items() if key not in failed)


def test_airports_known_only_from_the_supplement_are_a_warning(real_evaluations, source_flights, source_dir):
    airports = pd.read_csv(source_dir / "airports.csv", keep_default_na=False)
    missing = source_flights[~source_flights["dest"].isin(airports["faa"])]
    expected_codes = sorted(missing["dest"].unique())
    assert expected_codes == ["BQN", "PSE", "SJU", "STT"]

    for key in [
        ("staging/flights", "airports_from_reference_supplement"),
        ("raw/airports", "flight_airports_present"),
    ]:
        found = real_evaluations[key]
        assert (found.passed, found.severity) == (False, WARN)
        meta = metadata(found)
        codes = meta.get("codes", meta.get("missing_codes"))
        assert sorted(codes) == expected_codes
        assert meta["failing_rows"] == len(missing) == 7_602
        assert {row["faa"]: row["flights"] for row in meta["sample"]} == missing[
            "dest"
        ].value_counts().to_dict()
    assert all(
        row["in_supplement"]
        for row in metadata(real_evaluations[("raw/airports", "flight_airports_present")])["sample"]
    )


def test_the_implausible_wind_reading_of_the_source_is_reported(real_evaluations, source_dir):
    weather = pd.read_csv(source_dir / "weather.csv", na_values=["NA"], keep_default_na=False)
    too_windy = weather[weather["wind_speed"] > 150]
    found = real_evaluations[("staging/weather", "readings_plausible")]
    assert (found.passed, found.severity) == (False, WARN)
    meta = metadata(found)
    assert meta["failing_rows"] == len(too_windy) == 1
    [row] = meta["sample"]
    assert row["origin"] == too_windy["origin"].iloc[0] == "EWR"
    assert row["wind_speed_mph"] == pytest.approx(too_windy["wind_speed"].iloc[0])
    assert "1048.36 mph" in found.description


def test_raw_row_counts_are_compared_with_each_landed_file(real_evaluations, source_flights):
    found = real_evaluations[("raw/flights", "row_count_matches_landing_file")]
    per_month = source_flights.groupby("month").size()
    comparison = metadata(found)["comparison"]
    assert [row["file"] for row in comparison] == [f"flights_2013-{month:02d}.csv" for month in range(1, 13)]
    assert [row["rows_in_file"] for row in comparison] == per_month.tolist()
    assert [row["rows_in_warehouse"] for row in comparison] == per_month.tolist()
    assert (comparison[0]["rows_in_file"], comparison[-1]["rows_in_file"]) == (27_004, 28_135)


# --- thresholds set per run ------------------------------------------------------------------------


def test_null_rate_threshold_is_set_per_run(built_warehouse, source_flights):
    key = check_key("staging/flights", "null_rates_within_thresholds")
    config = {"max_null_share": {"dep_delay_minutes": 0.03}}
    result = run_checks(
        built_warehouse["resources"], key, run_config={"ops": {op_name(key): {"config": config}}}
    )

    found = evaluation(result, "staging/flights", "null_rates_within_thresholds")
    shares = source_flights["dep_delay"].isna().groupby(source_flights["month"]).mean()
    over = shares[shares > 0.03]
    assert (found.passed, found.severity) == (False, ERROR)
    meta = metadata(found)
    assert [row["month"][:7] for row in meta["sample"]] == [f"2013-{month:02d}" for month in over.index]
    assert meta["failing_rows"] == int(
        source_flights["dep_delay"].isna().groupby(source_flights["month"]).sum()[over.index].sum()
    )
    assert "dep_delay_minutes is null in 5.1% of 2013-02 (limit 3.0%)" in found.description
    # Blocking with ERROR: the step fails, so nothing downstream would run.
    assert not result.success


def test_unknown_tail_number_share_is_a_warning_with_a_configurable_limit(
    built_warehouse, source_flights, source_dir
):
    planes = pd.read_csv(source_dir / "planes.csv", keep_default_na=False)
    flown = source_flights["tailnum"].dropna()
    unknown = int((~flown.isin(planes["tailnum"])).sum())
    key = check_key("staging/flights", "tailnum_in_planes")
    result = run_checks(
        built_warehouse["resources"],
        key,
        run_config={"ops": {op_name(key): {"config": {"max_unknown_share": 0.1}}}},
    )

    found = evaluation(result, "staging/flights", "tailnum_in_planes")
    assert (found.passed, found.severity) == (False, WARN)
    assert metadata(found)["flights_with_unknown_tailnum"] == metadata(found)["failing_rows"] == unknown
    assert metadata(found)["unknown_share"] == pytest.approx(unknown / len(flown))
    assert result.success  # a warning does not fail the run


# --- crafted bad input through the landing zone ----------------------------------------------------


def materialize_january(resources, *keys: list[str]) -> dg.ExecuteInProcessResult:
    """The given assets with their checks, for January."""
    return materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.assets(*keys),
        resources=resources,
        partition_key=JANUARY,
        raise_on_error=False,
    )


def edit_first_flight(landing_dir: Path, **changes: str) -> list[str]:
    """Change fields of the first flight in January's landed file; returns its original fields."""
    path = landing_dir / "flights_2013-01.csv"
    header, first, *rest = path.read_text().splitlines(keepends=True)
    names = header.strip().split(",")
    fields = first.rstrip("\n").split(",")
    original = list(fields)
    for name, value in changes.items():
        fields[names.index(name)] = value
    path.write_text("".join([header, ",".join(fields) + "\n", *rest]))
    return original


def fingerprint(database, table: str) -> tuple:
    with connect(database, read_only=True) as conn:
        return conn.execute(f"select count(*), sum(hash(columns(*))) from {table}").fetchall()[0]


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}


def test_duplicate_flight_in_raw_blocks_staging_and_the_mart_and_keeps_the_good_version(warehouse_copy):
    """Ingest refuses a landed file that holds a flight twice (pipeline_tests/landing); this check is
    the second line of defence, for rows that reach raw another way."""
    database = warehouse_copy["warehouse"].database
    downstream = ("staging.flights", "marts.carrier_monthly_performance")
    before = {table: fingerprint(database, table) for table in downstream}
    tamper(
        warehouse_copy,
        "insert into raw.flights select * from raw.flights where month = 1 and day = 1 and flight = 1545",
    )
    result = materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.checks(check_key("raw/flights", "identity_unique"))
        | dg.AssetSelection.assets(["staging", "flights"], ["marts", "carrier_monthly_performance"]),
        resources=warehouse_copy,
        partition_key=JANUARY,
        raise_on_error=False,
    )

    assert not result.success  # ERROR and blocking: nothing downstream of raw/flights ran
    found = evaluation(result, "raw/flights", "identity_unique")
    assert (found.passed, found.severity) == (False, ERROR)
    meta = metadata(found)
    assert meta["failing_rows"] == 2
    assert [(row["carrier"], row["flight"], row["copies"]) for row in meta["sample"]] == [("UA", 1545, 2)]
    assert "raw.flights: 2 rows share their (year, month, day, carrier, flight, origin, sched_dep_time)" in (
        found.description
    )
    assert materialized(result) == set()
    assert {table: fingerprint(database, table) for table in downstream} == before


def test_flight_without_carrier_fails_the_raw_key_check(warehouse_copy):
    """Ingest refuses NA in a required column; the check catches a null that reaches raw otherwise."""
    found = check_after(
        warehouse_copy,
        "update raw.flights set carrier = null where month = 1 and day = 1 and flight = 1545",
        "raw/flights",
        "key_values_filled",
        partition_key=JANUARY,
    )
    assert (found.passed, found.severity) == (False, ERROR)
    meta = metadata(found)
    assert meta["failing_rows"] == 1
    assert meta["null_counts"]["carrier"] == 1
    assert sum(meta["null_counts"].values()) == 1
    assert meta["sample"][0]["flight"] == 1545
    assert "1 rows lack a key value (2013-01): carrier null in 1." in found.description


# --- crafted bad tables in a copy of the built warehouse -------------------------------------------


def test_missing_raw_column_fails_the_required_columns_check(warehouse_copy):
    found = check_after(
        warehouse_copy, "alter table raw.flights drop column dest", "raw/flights", "required_columns_present"
    )
    assert (found.passed, found.severity) == (False, ERROR)
    assert found.description == "raw.flights: column dest is missing."
    assert metadata(found)["sample"] == [{"column": "dest", "required_type": "VARCHAR", "actual_type": None}]


def test_lost_rows_fail_the_row_count_check_for_their_month_only(warehouse_copy, source_flights):
    tamper(warehouse_copy, "delete from raw.flights where month = 3 and day = 1 and flight < 1000")
    with connect(warehouse_copy["warehouse"].database, read_only=True) as conn:
        kept = conn.execute("select count(*) from raw.flights where month = 3").fetchall()[0][0]
    in_file = int((source_flights["month"] == 3).sum())
    key = check_key("raw/flights", "row_count_matches_landing_file")

    result = run_checks(warehouse_copy, key, partition_key="2013-03-01")

    found = evaluation(result, "raw/flights", "row_count_matches_landing_file")
    assert (found.passed, found.severity) == (False, ERROR)
    meta = metadata(found)
    assert meta["files_checked"] == 1  # the run's month, not the whole year
    assert meta["failing_rows"] == in_file - kept > 0
    assert found.description == (
        f"raw.flights: 1 of 1 file(s) differ from the warehouse: flights_2013-03.csv has {in_file:,} rows, "
        f"the warehouse {kept:,}"
    )
    # The other months still agree when checked outside a partitioned run.
    whole = evaluation(run_checks(warehouse_copy, key), "raw/flights", "row_count_matches_landing_file")
    assert [row["month"] for row in metadata(whole)["sample"]] == ["2013-03-01"]


def test_flight_of_an_unknown_carrier_fails_the_reference_check(warehouse_copy):
    tamper(
        warehouse_copy,
        "update staging.flights set carrier = 'ZZ' where flight_date = '2013-01-01' and flight_number = 1545",
    )
    result = run_checks(warehouse_copy, check_key("staging/flights", "carrier_in_airlines"))

    found = evaluation(result, "staging/flights", "carrier_in_airlines")
    assert (found.passed, found.severity) == (False, ERROR)
    meta = metadata(found)
    assert meta["failing_rows"] == 1
    assert [(row["carrier"], row["flights"], row["first_flight_date"]) for row in meta["sample"]] == [
        ("ZZ", 1, "2013-01-01")
    ]
    assert found.description == "1 flights have a carrier missing from staging.airlines: ZZ (1)."
    assert not result.success  # blocking with ERROR: the marts would not run


def test_duplicate_dimension_key_fails_the_staging_key_check(warehouse_copy):
    found = check_after(
        warehouse_copy,
        "insert into staging.airlines select * from staging.airlines where carrier = 'UA'",
        "staging/airlines",
        "carrier_unique",
    )
    assert (found.passed, found.severity) == (False, ERROR)
    assert metadata(found)["failing_rows"] == 2
    assert metadata(found)["sample"] == [{"carrier": "UA", "copies": 2}]


def test_months_not_loaded_make_the_freshness_check_warn(warehouse_copy):
    tamper(warehouse_copy, "delete from staging.flights where month >= 11")
    result = run_checks(warehouse_copy, check_key("staging/flights", "newest_month_is_fresh"))

    found = evaluation(result, "staging/flights", "newest_month_is_fresh")
    assert (found.passed, found.severity) == (False, WARN)
    assert metadata(found)["months_behind"] == 2
    assert (
        found.description
        == "Newest month loaded 2013-10, newest landed 2013-12: 2 month(s) behind (allowed 0)."
    )
    assert result.success


@pytest.mark.parametrize(
    ("asset", "tampering", "sample"),
    [
        (
            "marts/carrier_monthly_performance",
            "update marts.carrier_monthly_performance set flights = flights + 1 "
            "where carrier = 'UA' and month = '2013-05-01'",
            {"carrier": "UA", "month": "2013-05-01"},
        ),
        (
            "marts/route_performance",
            "delete from marts.route_performance where origin = 'JFK' and dest = 'HNL'",
            {"origin": "JFK", "dest": "HNL", "mart_flights": None},
        ),
        (
            "marts/weather_impact",
            "delete from marts.weather_impact where factor = 'wind' and bin = '< 10 mph'",
            {"grp": "wind"},
        ),
        (
            "marts/fleet_performance",
            "update marts.fleet_performance set flights = flights * 2 where manufacturer = 'BOEING'",
            {"grp": "all"},
        ),
    ],
)
def test_mart_that_does_not_add_up_to_staging_fails_reconciliation(warehouse_copy, asset, tampering, sample):
    found = check_after(warehouse_copy, tampering, asset, "reconciles_with_staging")
    assert (found.passed, found.severity) == (False, ERROR)
    meta = metadata(found)
    assert meta["failing_rows"] == 1
    assert sample.items() <= meta["sample"][0].items()
    assert "differs from staging.flights" in found.description


def test_model_missing_an_origin_fails_its_coverage_check(warehouse_copy):
    found = check_after(
        warehouse_copy,
        "delete from marts.weather_delay_model where origin = 'LGA'",
        "marts/weather_delay_model",
        "covers_every_origin",
    )
    assert (found.passed, found.severity) == (False, ERROR)
    assert metadata(found)["failing_rows"] == 3
    assert {(row["origin"], row["problem"]) for row in metadata(found)["sample"]} == {
        ("LGA", "missing from the model")
    }


def test_corrupt_chart_fails_the_report_check(warehouse_copy, tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    resources = {**warehouse_copy, "report_store": ReportStore(path=str(tmp_path / "reports"))}
    built = materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.assets(["reports", "carrier_on_time"]),
        resources=resources,
        instance=instance,
    )
    assert evaluation(built, "reports/carrier_on_time", "chart_matches_mart").passed

    chart = tmp_path / "reports" / "carrier_on_time.png"
    chart.write_bytes(b"not an image")
    result = run_checks(
        resources, check_key("reports/carrier_on_time", "chart_matches_mart"), instance=instance
    )

    found = evaluation(result, "reports/carrier_on_time", "chart_matches_mart")
    assert (found.passed, found.severity) == (False, ERROR)
    assert found.description == f"{chart} is not a PNG image."
    assert metadata(found)["sample"] == [{"problem": f"{chart} is not a PNG image"}]


def test_row_count_follows_the_version_loaded_when_an_older_file_is_delivered_again(tmp_path, landing_dir):
    resources = make_resources(tmp_path, landing_dir)
    airlines = landing_dir / "airlines.csv"
    original = airlines.read_bytes()
    raw_airlines = dg.AssetKey(["raw", "airlines"])
    key = check_key("raw/airlines", "row_count_matches_landing_file")

    def load(content: bytes):
        airlines.write_bytes(content)
        result = materialize(
            [*defs.assets, *defs.asset_checks],
            selection=dg.AssetSelection.assets(raw_airlines) | dg.AssetSelection.checks(key),
            resources=resources,
        )
        return evaluation(result, "raw/airlines", "row_count_matches_landing_file")

    assert load(original).passed
    assert load(original + b'ZZ,"Correction Airways Inc."\n').passed
    found = load(original)  # upstream takes the correction back: the first version, again
    assert found.passed, found.description
    assert metadata(found)["comparison"][0]["rows_in_file"] == 16
