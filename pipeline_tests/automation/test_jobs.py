"""Jobs: the full refresh rebuilds every layer for all twelve months in one run; the monthly job
then reloads one corrected month end to end, leaving the other months as they were.

Both run in-process on a temporary warehouse through the code location's own job definitions: the
full refresh is the session's built warehouse (conftest), the monthly refresh runs on a copy of it.
"""

import shutil

import dagster as dg
import duckdb
import pytest

from pipeline.definitions import defs
from pipeline.partitions import monthly_partitions
from pipeline_tests.support import definitions_with, make_resources

END_TO_END_GROUPS = {"raw", "staging", "marts", "reports"}
FEBRUARY = "2013-02-01"
WITHDRAWN_ROWS = 10


def _data_rows(path) -> int:
    with open(path, "rb") as source:
        return sum(1 for _ in source) - 1


def _materialized(result: dg.ExecuteInProcessResult) -> dict[str, set[str | None]]:
    partitions: dict[str, set[str | None]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        partitions.setdefault(materialization.asset_key.to_user_string(), set()).add(
            materialization.partition
        )
    return partitions


@pytest.fixture
def refreshed(tmp_path, built_warehouse):
    """A copy of the warehouse the full_refresh job built (conftest's built_warehouse): its file,
    report, landing folder and archive, and an instance, for a monthly refresh to change."""
    landing_zone = built_warehouse["resources"]["landing_zone"]
    shutil.copyfile(built_warehouse["database"], tmp_path / "warehouse.duckdb")
    shutil.copytree(built_warehouse["root"] / "reports", tmp_path / "reports")
    shutil.copytree(landing_zone.root, tmp_path / "landing")
    shutil.copytree(landing_zone.archive_root, tmp_path / "archive")
    with dg.instance_for_test() as instance:
        yield {
            "root": tmp_path,
            "landing": tmp_path / "landing",
            "database": tmp_path / "warehouse.duckdb",
            "code_location": definitions_with(make_resources(tmp_path, tmp_path / "landing")),
            "instance": instance,
        }


def _query(database, sql: str):
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_full_refresh_builds_every_layer_for_every_month(built_warehouse, seeded_landing):
    months = monthly_partitions.get_partition_keys()
    expected_assets = {
        spec.key.to_user_string()
        for spec in defs.resolve_all_asset_specs()
        if spec.group_name in END_TO_END_GROUPS
    }
    materialized = _materialized(built_warehouse["result"])

    assert set(materialized) == expected_assets
    for table in ("raw/flights", "raw/weather", "staging/flights", "staging/weather"):
        assert materialized[table] == set(months), table
    assert materialized["marts/carrier_monthly_performance"] == {None}

    per_month = dict(
        _query(
            built_warehouse["database"],
            "select strftime(make_date(year, month, 1), '%Y-%m-%d'), count(*) from raw.flights group by 1",
        )
    )
    assert per_month == {month: _data_rows(seeded_landing / f"flights_{month[:7]}.csv") for month in months}
    assert per_month["2013-01-01"] == 27_004 and per_month["2013-12-01"] == 28_135
    assert _query(built_warehouse["database"], "select count(*) from staging.weather") == [(26_115,)]
    assert _query(
        built_warehouse["database"],
        "select count(distinct month), sum(flights), count(distinct carrier) from marts.carrier_monthly_performance",
    ) == [(12, 336_776, 16)]
    assert (built_warehouse["root"] / "reports" / "carrier_on_time.png").stat().st_size > 0


def test_monthly_refresh_reloads_one_corrected_month_end_to_end(refreshed, seeded_landing):
    database = refreshed["database"]
    february = refreshed["landing"] / "flights_2013-02.csv"
    lines = february.read_bytes().splitlines(keepends=True)
    february.write_bytes(b"".join(lines[:-WITHDRAWN_ROWS]))  # upstream withdraws ten flights
    delivered = _data_rows(seeded_landing / "flights_2013-02.csv")
    chart = refreshed["root"] / "reports" / "carrier_on_time.png"
    chart_before = chart.stat().st_mtime_ns

    result = (
        refreshed["code_location"]
        .resolve_job_def("monthly_refresh")
        .execute_in_process(partition_key=FEBRUARY, instance=refreshed["instance"])
    )

    assert result.success
    materialized = _materialized(result)
    for table in ("raw/flights", "raw/weather", "staging/flights", "staging/weather"):
        assert materialized[table] == {FEBRUARY}, table
    assert {"marts/carrier_monthly_performance", "marts/route_performance", "reports/carrier_on_time"} <= set(
        materialized
    )

    per_month = dict(_query(database, "select month, count(*) from staging.flights group by month"))
    assert per_month[2] == delivered - WITHDRAWN_ROWS
    assert per_month[1] == 27_004 and per_month[12] == 28_135
    assert _query(
        database,
        "select sum(flights) filter (where month = date '2013-02-01'), sum(flights) "
        "from marts.carrier_monthly_performance",
    ) == [(delivered - WITHDRAWN_ROWS, 336_776 - WITHDRAWN_ROWS)]
    assert chart.stat().st_mtime_ns > chart_before
