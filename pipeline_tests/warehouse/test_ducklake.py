"""The DuckLake backend: catalog in a real PostgreSQL database made for the module, data in a folder.

- ``full_refresh`` on the lake builds the same tables as on the DuckDB file;
- two replacements of one table racing through the project's write path (the IO manager), a few
  dozen times: never a commit conflict, never ``count(*)`` ≠ a full scan (unserialized, DuckLake
  1.5.5 conflicts or corrupts the table: /work/shared/PITFALLS.md);
- a reader attached to the lake while months are replaced: never blocked, and always the old or
  the new snapshot of each table, never a month half replaced;
- a writer killed with SIGKILL inside its transaction: PostgreSQL releases its lock, the tables
  are as before, and the re-run succeeds.

Configuration and settings that need no database are tested at the end, outside the integration
marker.
"""

import json
import math
import multiprocessing
import os
import signal
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from deploy import processes
from pipeline import constants
from pipeline.landing import landed_tables as landing
from pipeline.partitions import monthly_partitions
from pipeline.warehouse import backends, ducklake, pg_locks
from pipeline.warehouse.io_manager import WarehouseIOManager
from pipeline.warehouse.outputs import WarehouseQuery
from pipeline_tests import lake as lake_helpers
from pipeline_tests.processes import start_python, wait_for_line
from pipeline_tests.support import definitions_with, make_resources, step_failure_message

RACE_ROUNDS = 30
REDELIVERED_MONTHS = {3: "2013-03-01", 4: "2013-04-01"}
DROPPED_ROWS = 1_000


@pytest.fixture(scope="module")
def lake(tmp_path_factory, postgres_server):
    """An empty lake selected for the module: catalog database, data folder, environment."""
    root = tmp_path_factory.mktemp("lake")
    with lake_helpers.lake_catalog() as catalog, pytest.MonkeyPatch.context() as patch:
        environment = lake_helpers.lake_environment(catalog, root / "data")
        for name, value in environment.items():
            patch.setenv(name, value)
        yield {"root": root, "catalog": catalog, "data_path": root / "data", "env": environment}


@pytest.fixture(scope="module")
def built_lake(lake, seeded_landing):
    """The ``full_refresh`` job run once into the lake."""
    resources = make_resources(lake["root"], seeded_landing)
    result = (
        definitions_with(resources).resolve_job_def("full_refresh").execute_in_process(raise_on_error=False)
    )
    assert result.success, step_failure_message(result)
    return {**lake, "resources": resources}


def _normalized(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.9g}")
    return value


def fingerprint(conn: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, object]:
    """Rows of every table (per month for the monthly ones) and the full contents of the marts."""
    found: dict[str, object] = {}
    for table in tables:
        columns = [name for name, *_ in conn.execute(f"describe {table}").fetchall()]
        if "month" in columns and not table.startswith("marts."):
            found[table] = dict(
                conn.execute(f"select month, count(*) from {table} group by 1 order by 1").fetchall()
            )
        else:
            found[table] = conn.execute(f"select count(*) from {table}").fetchone()[0]
        if table.startswith("marts."):
            kept = [c for c in columns if not c.startswith("_")]
            rows = conn.execute(f"select {', '.join(kept)} from {table}").fetchall()
            found[f"{table} contents"] = sorted((tuple(map(_normalized, row)) for row in rows), key=repr)
    return found


@pytest.mark.integration
@lake_helpers.requires_lake
def test_full_refresh_on_ducklake_builds_the_same_tables_as_the_file(built_lake, built_warehouse):
    with lake_helpers.lake_connection(built_lake["catalog"], built_lake["data_path"]) as lake_conn:
        tables = lake_helpers.lake_tables(lake_conn)
        on_lake = fingerprint(lake_conn, tables)
        assert lake_helpers.inconsistent_tables(lake_conn) == {}
    with duckdb.connect(str(built_warehouse["database"]), read_only=True) as file_conn:
        file_tables = [
            f"{schema}.{table}"
            for schema, table in file_conn.execute(
                "select table_schema, table_name from information_schema.tables order by all"
            ).fetchall()
        ]
        on_file = fingerprint(file_conn, file_tables)
    assert tables == file_tables
    assert {"raw.flights", "staging.flights", "marts.carrier_monthly_performance"} <= set(tables)
    assert sum(on_lake["staging.flights"].values()) == 336_776
    assert on_lake["staging.flights"][1] == 27_004
    for key in on_file:
        assert on_lake[key] == on_file[key], key


# --- the corruption pattern, through the IO manager --------------------------------------------


@dg.asset(
    key=["raw", "race"],
    partitions_def=monthly_partitions,
    metadata={"partition_expr": "month_start"},
)
def race_table(context: dg.AssetExecutionContext) -> WarehouseQuery:
    """1,000 rows for the month, tagged with the writing process."""
    start = context.partition_time_window.start.date()
    return WarehouseQuery(
        "select $month_start::date as month_start, range as i, $writer as writer from range(1000)",
        {"month_start": start, "writer": os.getpid()},
    )


def _race(months: list[str], barrier, environment: dict[str, str], rounds: int, results) -> None:
    """In a process of its own: replace ``months[round % len]`` once per round, in step with the
    other racer (the barrier), through the project's IO manager."""
    os.environ.update(environment)
    errors = []
    for round_number in range(rounds):
        barrier.wait(timeout=120)
        result = dg.materialize(
            [race_table],
            partition_key=months[round_number % len(months)],
            resources={"io_manager": WarehouseIOManager()},
            raise_on_error=False,
        )
        if not result.success:
            errors.append(step_failure_message(result))
    results.put(errors)


@pytest.mark.integration
@lake_helpers.requires_lake
def test_racing_replacements_of_one_table_neither_conflict_nor_corrupt(lake):
    months = list(monthly_partitions.get_partition_keys())
    seed = dg.materialize(
        [race_table],
        partition_key=months[0],
        resources={"io_manager": WarehouseIOManager()},
    )
    assert seed.success
    for key in months[1:6]:
        dg.materialize([race_table], partition_key=key, resources={"io_manager": WarehouseIOManager()})

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    racers = [
        context.Process(target=_race, args=(mine, barrier, lake["env"], RACE_ROUNDS, results))
        for mine in (months[0:6:2], months[1:6:2])  # two different months of one table each round
    ]
    for racer in racers:
        racer.start()
    errors = [results.get(timeout=900) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
        assert racer.exitcode == 0
    assert errors == [[], []]

    with lake_helpers.lake_connection(lake["catalog"], lake["data_path"]) as conn:
        assert lake_helpers.inconsistent_tables(conn) == {}
        per_month = dict(conn.execute("select month_start, count(*) from raw.race group by 1").fetchall())
        writers = conn.execute("select count(distinct writer) from raw.race").fetchone()[0]
    assert sorted(per_month.values()) == [1000] * 6
    assert writers >= 2  # both racers' last rounds are there


# --- readers while months are replaced ------------------------------------------------------------

READER = """
import json, sys, time
from pathlib import Path
from pipeline.warehouse import ducklake

catalog, data_path, stop = sys.argv[1], sys.argv[2], Path(sys.argv[3])
with ducklake.connect(catalog, data_path, read_only=True) as conn:
    print("attached", flush=True)
    while not stop.exists():
        started = time.monotonic()
        row = conn.execute(
            "select (select count(*) from staging.flights where month = 3), "
            "(select count(*) from staging.flights where month = 4), "
            "(select sum(flights) from marts.carrier_monthly_performance where month = '2013-03-01'), "
            "(select sum(flights) from marts.carrier_monthly_performance where month = '2013-04-01')"
        ).fetchone()
        print(json.dumps({"seconds": time.monotonic() - started, "values": list(row)}), flush=True)
"""


@pytest.mark.integration
@lake_helpers.requires_lake
def test_reader_is_never_blocked_and_sees_old_or_new_snapshot(built_lake, landing_dir, tmp_path):
    catalog, data_path = built_lake["catalog"], built_lake["data_path"]

    def month_values(conn) -> list[int]:
        return [
            *[
                conn.execute(f"select count(*) from staging.flights where month = {m}").fetchone()[0]
                for m in (3, 4)
            ],
            *[
                conn.execute(
                    f"select sum(flights) from marts.carrier_monthly_performance where month = '{key}'"
                ).fetchone()[0]
                for key in REDELIVERED_MONTHS.values()
            ],
        ]

    with lake_helpers.lake_connection(catalog, data_path) as conn:
        old = month_values(conn)
    expected_new = {
        m: lake_helpers.redeliver_smaller(
            landing_dir / landing.monthly_file_name("flights", key), DROPPED_ROWS
        )
        for m, key in REDELIVERED_MONTHS.items()
    }

    stop = tmp_path / "stop"
    reader = start_python(READER, catalog, data_path, stop, env={**os.environ}, cwd=Path(__file__).parents[2])
    try:
        wait_for_line(reader, "attached")
        resources = make_resources(built_lake["root"], landing_dir)
        job = definitions_with(resources).resolve_job_def("monthly_refresh")
        for key in REDELIVERED_MONTHS.values():
            result = job.execute_in_process(partition_key=key, raise_on_error=False)
            assert result.success, step_failure_message(result)
        stop.touch()
        output, errors = reader.communicate(timeout=60)
    finally:
        if reader.poll() is None:
            processes.stop(reader, grace=5)
    assert reader.returncode == 0, errors

    with lake_helpers.lake_connection(catalog, data_path) as conn:
        new = month_values(conn)
        assert lake_helpers.inconsistent_tables(conn) == {}
    assert new[:2] == [expected_new[3], expected_new[4]]
    assert new[2:] == new[:2]  # the mart counts every staged flight of the month
    samples = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(samples) > 10
    for sample in samples:
        for position, value in enumerate(sample["values"]):
            assert value in (old[position], new[position]), (position, value, old, new)
    seen = {tuple(sample["values"]) for sample in samples}
    assert tuple(old) in seen and len(seen) >= 2  # the reader saw the replacement happen
    # Not a timing benchmark: a blocked reader would wait for whole runs (many seconds).
    assert max(sample["seconds"] for sample in samples) < 1.0


# --- a writer killed mid-transaction ----------------------------------------------------------

KILLED_WRITER = """
import time
from pipeline.warehouse import backends

target = backends.resolve(None)
with backends.write_transaction(target, "staging", "flights") as conn:
    conn.execute("delete from staging.flights where month = 5").fetchall()
    conn.execute("insert into staging.flights select * from staging.flights where month = 6").fetchall()
    print("inside the transaction", flush=True)
    time.sleep(600)
"""


@pytest.mark.integration
@lake_helpers.requires_lake
def test_writer_killed_mid_transaction_releases_its_lock_and_leaves_tables_as_they_were(
    built_lake, seeded_landing
):
    catalog, data_path = built_lake["catalog"], built_lake["data_path"]
    lock_name = "table:staging.flights"
    with lake_helpers.lake_connection(catalog, data_path) as conn:
        before = lake_helpers.flights_by_month(conn)

    writer = start_python(KILLED_WRITER, env={**os.environ}, cwd=Path(__file__).parents[2])
    try:
        wait_for_line(writer, "inside the transaction")
        assert pg_locks.is_locked(catalog, lock_name)
        # Readers are not blocked by the writer holding the table.
        with lake_helpers.lake_connection(catalog, data_path) as conn:
            assert lake_helpers.flights_by_month(conn) == before
        os.killpg(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            os.killpg(writer.pid, signal.SIGKILL)
    assert processes.wait_until(lambda: not pg_locks.is_locked(catalog, lock_name), timeout=30)

    with lake_helpers.lake_connection(catalog, data_path) as conn:
        assert lake_helpers.flights_by_month(conn) == before
        assert lake_helpers.inconsistent_tables(conn) == {}

    # The re-run of the month takes the released lock and succeeds.
    resources = make_resources(built_lake["root"], seeded_landing)
    may = dg.AssetSelection.assets(["raw", "flights"], ["staging", "flights"])
    result = dg.materialize(
        list(definitions_with(resources).assets), resources=resources, selection=may,
        partition_key="2013-05-01", raise_on_error=False,
    )  # fmt: skip
    assert result.success, step_failure_message(result)
    with lake_helpers.lake_connection(catalog, data_path) as conn:
        after = lake_helpers.flights_by_month(conn)
        assert lake_helpers.inconsistent_tables(conn) == {}
    assert after == before
    assert after[5] == lake_helpers.csv_rows(
        seeded_landing / landing.monthly_file_name("flights", "2013-05-01")
    )


# --- configuration (no database) -------------------------------------------------------------------


def test_file_backend_is_the_default(monkeypatch):
    monkeypatch.delenv(constants.WAREHOUSE_BACKEND_ENV, raising=False)
    assert backends.resolve(None).backend == backends.FILE


def test_ducklake_needs_a_catalog_without_a_password(monkeypatch):
    monkeypatch.setenv(constants.WAREHOUSE_BACKEND_ENV, "ducklake")
    monkeypatch.delenv(constants.DUCKLAKE_CATALOG_ENV, raising=False)
    with pytest.raises(ducklake.DuckLakeConfigurationError, match="DUCKLAKE_CATALOG"):
        backends.resolve(None)
    monkeypatch.setenv(constants.DUCKLAKE_CATALOG_ENV, "dbname=lake host=db user=u password=secret")
    with pytest.raises(ducklake.DuckLakeConfigurationError, match="PGPASSWORD"):
        backends.resolve(None)
    monkeypatch.setenv(constants.WAREHOUSE_BACKEND_ENV, "sqlite")
    with pytest.raises(backends.UnknownBackend):
        backends.resolve(None)


def test_data_path_is_a_folder_or_an_object_store_url(monkeypatch, tmp_path):
    monkeypatch.setenv(constants.WAREHOUSE_BACKEND_ENV, "ducklake")
    monkeypatch.setenv(constants.DUCKLAKE_CATALOG_ENV, "dbname=lake host=db user=u")
    monkeypatch.setenv(constants.DUCKLAKE_DATA_PATH_ENV, "s3://bucket/flights")
    assert backends.resolve(None).data_path == "s3://bucket/flights"
    assert ducklake.data_path_option("s3://bucket/flights") == "s3://bucket/flights/"
    monkeypatch.setenv(constants.DUCKLAKE_DATA_PATH_ENV, str(tmp_path / "lake"))
    assert ducklake.data_path_option(backends.resolve(None).data_path) == f"{tmp_path / 'lake'}/"
    assert (tmp_path / "lake").is_dir()


@lake_helpers.requires_lake
def test_extensions_come_from_the_wheels_for_the_installed_duckdb():
    for _name, module, stem in ducklake.EXTENSIONS:
        path = ducklake.wheel_extension(module, stem)
        assert path is not None and f"v{duckdb.__version__}" in str(path), module


def test_lock_keys_are_stable_and_distinct_per_table():
    assert pg_locks.lock_key("table:raw.flights") == pg_locks.lock_key("table:raw.flights")
    assert pg_locks.lock_key("table:raw.flights") != pg_locks.lock_key("table:raw.weather")
    assert -(2**63) <= pg_locks.lock_key("table:raw.flights") < 2**63
