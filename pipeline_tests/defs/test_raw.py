"""Raw layer: every landed file loads into its own month, with lineage, and reloads idempotently."""

import csv

import duckdb
import pytest

from pipeline_tests.support import load_flights, make_resources, step_failure_message


def source_rows_by_month(landing_dir, table):
    rows = {}
    for path in sorted(landing_dir.glob(f"{table}_2013-*.csv")):
        with open(path, newline="") as handle:
            rows[f"{path.stem[-7:]}-01"] = sum(1 for row in csv.reader(handle) if row) - 1  # the header
    return rows


@pytest.fixture(scope="module")
def source_rows(seeded_landing) -> dict[str, dict[str, int]]:
    """Data rows per month of the seeded flights and weather files, counted once per module."""
    return {table: source_rows_by_month(seeded_landing, table) for table in ("flights", "weather")}


def test_twelve_flights_partitions_hold_the_year_and_match_their_files(warehouse_conn, source_rows):
    stored = dict(
        warehouse_conn.execute(
            "select strftime(make_date(year, month, 1), '%Y-%m-%d'), count(*) from raw.flights group by 1"
        ).fetchall()
    )
    assert sum(stored.values()) == 336_776
    assert stored == source_rows["flights"]


def test_weather_partitions_match_their_files(warehouse_conn, source_rows):
    stored = dict(
        warehouse_conn.execute(
            "select strftime(make_date(year, month, 1), '%Y-%m-%d'), count(*) from raw.weather group by 1"
        ).fetchall()
    )
    assert stored == source_rows["weather"]
    assert sum(stored.values()) == 26_115


@pytest.mark.parametrize(("table", "rows"), [("airlines", 16), ("airports", 1_458), ("planes", 3_322)])
def test_dimensions_load_whole(warehouse_conn, table, rows):
    assert warehouse_conn.execute(f"select count(*) from raw.{table}").fetchall()[0][0] == rows


def test_rows_keep_their_lineage(warehouse_conn, source_rows):
    march_rows = source_rows["flights"]["2013-03-01"]
    lineage = warehouse_conn.execute(
        """
        select _source_file, count(*), count(_loaded_at)
        from raw.flights where month = 3 group by 1
        """
    ).fetchall()
    assert lineage == [("flights_2013-03.csv", march_rows, march_rows)]


def test_missing_values_are_nulls_not_text(warehouse_conn):
    no_departure, dep_time_type = warehouse_conn.execute(
        "select count(*) filter (where dep_time is null), any_value(typeof(dep_time)) from raw.flights"
    ).fetchall()[0]
    assert no_departure == 8_255
    assert dep_time_type == "SMALLINT"


def test_rematerializing_a_month_replaces_only_that_month(tmp_path, landing_dir):
    resources = make_resources(tmp_path, landing_dir)
    for month in ("2013-01-01", "2013-02-01"):
        assert load_flights(resources, month).success

    def snapshot():
        with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
            return dict(
                conn.execute(
                    "select month, (count(*), min(_loaded_at)) from raw.flights group by month"
                ).fetchall()
            )

    before = snapshot()
    assert load_flights(resources, "2013-02-01").success
    after = snapshot()

    assert after[1] == before[1], "January must be untouched"
    assert after[2][0] == before[2][0] == 24_951, "February must not be duplicated"
    assert after[2][1] > before[2][1], "February must have been reloaded"


def test_a_month_whose_file_has_not_landed_fails_naming_the_file(tmp_path, landing_dir):
    (landing_dir / "flights_2013-05.csv").unlink()
    result = load_flights(make_resources(tmp_path, landing_dir), "2013-05-01", raise_on_error=False)
    assert not result.success
    message = step_failure_message(result)
    assert "flights_2013-05.csv" in message and "does not exist" in message


@pytest.mark.parametrize(
    ("node", "files"),
    [
        ("raw__flights", 12),
        ("raw__weather", 12),
        ("raw__airlines", 1),
        ("raw__airports", 1),
        ("raw__planes", 1),
    ],
)
def test_every_raw_load_records_the_volume_guard_and_2013_is_never_held(built_warehouse, node, files):
    materializations = built_warehouse["result"].asset_materializations_for_node(node)
    assert materializations
    for materialization in materializations:
        metadata = materialization.metadata
        assert "volume_change_accepted" not in metadata
        guarded = metadata["volume_guard"].value
        assert len(guarded) == files
        assert all(entry["held"] == [] for entry in guarded)
    rows = sorted(entry["rows"] for entry in materializations[0].metadata["volume_guard"].value)
    if node == "raw__flights":
        assert sum(rows) == 336_776 and rows[0] == 24_951  # February, 88% of the median month
