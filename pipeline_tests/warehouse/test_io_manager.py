"""The DuckDB IO manager: a partition is replaced in one transaction, by column name, never with
nothing, and the warehouse is free for the next process however the write ends."""

import subprocess
import sys

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipeline.warehouse.io_manager import WarehouseIOManager
from pipeline.warehouse.outputs import WarehouseQuery
from pipeline_tests.support import materialize, step_failure_message

days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05")


class Shape(dg.Config):
    kind: str = "good"


def _frame(day: str, kind: str) -> pd.DataFrame:
    good = pd.DataFrame({"day": pd.to_datetime([day] * 3).date, "item": ["a", "b", "c"], "value": [1, 2, 3]})
    return {
        "good": good,
        "reordered": good[["value", "day", "item"]].assign(value=[10, 20, 30]),
        "empty": good.iloc[0:0],
        "extra_column": good.assign(surprise=True),
        "missing_column": good.drop(columns="value"),
        "outside_partition": good.assign(day=pd.to_datetime(["2024-01-04"] * 3).date),
    }[kind]


@dg.asset(key_prefix=["testing"], partitions_def=days, metadata={"partition_expr": "day"})
def readings(context: dg.AssetExecutionContext, config: Shape) -> pd.DataFrame:
    return _frame(context.partition_key, config.kind)


@dg.asset(key_prefix=["testing"], partitions_def=days, metadata={"partition_expr": "day"})
def queried(context: dg.AssetExecutionContext, config: Shape) -> WarehouseQuery:
    fail = "error('upstream broke mid-write')" if config.kind == "fails_mid_write" else "i"
    return WarehouseQuery(
        f"select $day::date as day, {fail} as value from range(1000) as t(i)",
        {"day": context.partition_key},
    )


@pytest.fixture
def database(tmp_path):
    return tmp_path / "warehouse.duckdb"


def run(database, asset, day, kind="good"):
    return materialize(
        [asset],
        partition_key=day,
        resources={"io_manager": WarehouseIOManager(database=str(database))},
        run_config={"ops": {asset.node_def.name: {"config": {"kind": kind}}}},
        raise_on_error=False,
    )


def rows(database, table="testing.readings"):
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(f"select * from {table} order by all").fetchall()


def failure(result) -> str:
    assert not result.success
    return step_failure_message(result)


def test_rewriting_a_partition_replaces_it(database):
    assert run(database, readings, "2024-01-01").success
    assert run(database, readings, "2024-01-02").success
    assert run(database, readings, "2024-01-02", "reordered").success
    stored = rows(database)
    assert len(stored) == 6
    assert [value for day, _, value in stored if str(day) == "2024-01-02"] == [10, 20, 30]
    assert [value for day, _, value in stored if str(day) == "2024-01-01"] == [1, 2, 3]


def test_columns_are_matched_by_name_not_position(database):
    assert run(database, readings, "2024-01-01").success
    assert run(database, readings, "2024-01-02", "reordered").success
    with duckdb.connect(str(database), read_only=True) as conn:
        assert conn.execute(
            "select item, value from testing.readings where day = '2024-01-02' order by item"
        ).fetchall() == [("a", 10), ("b", 20), ("c", 30)]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("empty", "produced no rows"),
        ("extra_column", "unexpected ['surprise']"),
        ("missing_column", "missing ['value']"),
        ("outside_partition", "fall outside the partition"),
    ],
)
def test_a_bad_output_leaves_the_partition_as_it_was(database, kind, message):
    assert run(database, readings, "2024-01-01").success
    before = rows(database)
    result = run(database, readings, "2024-01-01", kind)
    assert message in failure(result)
    assert rows(database) == before


def test_a_query_failing_mid_write_rolls_the_whole_partition_back(database):
    assert run(database, queried, "2024-01-02").success
    before = rows(database, "testing.queried")
    assert len(before) == 1000
    result = run(database, queried, "2024-01-02", "fails_mid_write")
    assert "upstream broke mid-write" in failure(result)
    assert rows(database, "testing.queried") == before


@pytest.mark.integration  # starts another process
def test_another_process_can_write_right_after_a_failed_write(database):
    assert run(database, readings, "2024-01-01").success
    assert not run(database, readings, "2024-01-01", "empty").success
    # DuckDB lets one process hold the file: this fails if the failed write left it open.
    subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(database)!r}).execute('checkpoint')"],
        check=True,
        timeout=60,
    )


def test_output_metadata_reports_rows_schema_and_preview(database):
    result = run(database, readings, "2024-01-01")
    run(database, readings, "2024-01-02")
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["dagster/partition_row_count"].value == 3
    assert [c.name for c in metadata["dagster/column_schema"].value.columns] == ["day", "item", "value"]
    assert "| day | item | value |" in metadata["preview"].value


@dg.asset(key_prefix=["testing"])
def settings() -> WarehouseQuery:
    return WarehouseQuery(
        "select current_setting('threads') as threads, current_setting('memory_limit') as memory_limit"
    )


def test_writes_run_with_the_configured_threads_and_memory_limit(database):
    io_manager = WarehouseIOManager(database=str(database), threads=1, memory_limit="400MB")
    assert materialize([settings], resources={"io_manager": io_manager}).success
    with duckdb.connect(str(database), read_only=True) as conn:
        assert conn.execute("select * from testing.settings").fetchall() == [(1, "381.4 MiB")]
