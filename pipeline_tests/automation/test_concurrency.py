"""Concurrency: all twelve months launched as concurrent runs land each month exactly once.

Twelve real runs — one process each, on one persistent DagsterInstance, started at the same
moment — load and stage one month apiece into the same DuckDB file; one of them uses the
multiprocess executor, so steps of one run also contend with each other. DuckDB admits a single
writing process per file: the warehouse lock (``pipeline.warehouse``) must queue them all, with no
DuckDB lock error, no lost or doubled month, and every row count equal to the landed files'. The
runs start and stop through deploy.processes (pipeline_tests/processes.py), each in its own session.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from bench.pipeline_job import monthly_asset_keys
from deploy import processes
from pipeline import constants
from pipeline.definitions import defs
from pipeline_tests.processes import dagster_home, server_environment
from pipeline_tests.support import make_resources

REPO_ROOT = Path(__file__).resolve().parents[2]
MONTHS = [f"2013-{month:02d}-01" for month in range(1, 13)]
MULTIPROCESS_MONTHS = {"2013-06-01"}
JOB_NAME = "months_concurrently"
RUN_TIMEOUT_SECONDS = 600
LOCK_ERROR_MARKERS = ("could not set lock", "conflicting lock", "warehouselocktimeout")
STOP_GRACE_SECONDS = 15

CHILD = """
import sys, time
from pathlib import Path
import dagster as dg
from pipeline_tests.automation.test_concurrency import monthly_job

partition, executor, barrier = sys.argv[1], sys.argv[2], Path(sys.argv[3])
(barrier / f"ready-{partition}").touch()
while not (barrier / "go").exists():
    time.sleep(0.005)
run_config = {"execution": {"config": {executor: {}}}}
with dg.DagsterInstance.get() as instance:
    with dg.execute_job(
        dg.reconstructable(monthly_job), instance, run_config=run_config,
        tags={"dagster/partition": partition},
    ) as result:
        print(result.run_id)
        sys.exit(0 if result.success else 1)
"""


def monthly_job() -> dg.JobDefinition:
    """The code location's monthly assets (raw and staging flights and weather) for one month."""
    job = dg.define_asset_job(
        JOB_NAME,
        selection=dg.AssetSelection.assets(*monthly_asset_keys()) - dg.AssetSelection.all_asset_checks(),
    )
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def(JOB_NAME)


def _landed_rows_by_month(landing_dir: Path, table: str) -> dict[int, int]:
    """Rows per month straight from the landed CSV files, independent of the pipeline's SQL."""
    with duckdb.connect() as conn:
        return dict(
            conn.execute(
                f"select month::integer as month, count(*) from read_csv('{landing_dir}/{table}_2013-*.csv', "
                "header = true, all_varchar = true) group by all",
            ).fetchall()
        )


def _max_overlap(records: list) -> int:
    """The most runs that were in progress at one moment."""
    events = sorted(
        [(record.start_time, 1) for record in records] + [(record.end_time, -1) for record in records]
    )
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


@pytest.fixture
def dimensions_built(tmp_path, landing_dir):
    """The dimension tables the monthly staging SQL joins against, built once beforehand."""
    partitioned = set(monthly_asset_keys())
    dimensions = [
        assets_def
        for assets_def in defs.assets
        if isinstance(assets_def, dg.AssetsDefinition)
        and assets_def.partitions_def is None
        and assets_def.key.path[0] in (constants.RAW_SCHEMA, constants.STAGING_SCHEMA)
        and not partitioned.intersection(assets_def.keys)
    ]
    assert dg.materialize(dimensions, resources=make_resources(tmp_path, landing_dir)).success
    return tmp_path


@pytest.mark.integration  # tens of seconds: out of the fast loop
def test_twelve_concurrent_month_runs_land_every_month_exactly_once(dimensions_built, landing_dir, tmp_path):
    home = dagster_home(tmp_path / "dagster_home")
    # Create the instance's storage once, as a deployment does before any run is launched.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    # PYTHONPATH: the runs import this module (monthly_job) by name.
    env = {
        **server_environment(tmp_path, dagster_home=home, **{constants.LANDING_DIR_ENV: landing_dir}),
        "PYTHONPATH": str(REPO_ROOT),
    }

    children = {
        month: processes.start(
            [
                sys.executable,
                "-c",
                CHILD,
                month,
                "multiprocess" if month in MULTIPROCESS_MONTHS else "in_process",
                str(barrier),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for month in MONTHS
    }
    outputs = {}
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while len(list(barrier.glob("ready-*"))) < len(MONTHS):
            failed = {
                month: child.returncode for month, child in children.items() if child.poll() is not None
            }
            assert not failed, f"runs exited before starting: {failed}"
            assert time.monotonic() < deadline, "the runs never got ready"
            time.sleep(0.05)
        (barrier / "go").touch()
        for month, child in children.items():
            outputs[month] = child.communicate(timeout=max(deadline - time.monotonic(), 1))
    finally:
        processes.stop(*children.values(), grace=STOP_GRACE_SECONDS)

    for month, (_stdout, stderr) in outputs.items():
        assert children[month].returncode == 0, f"run for {month} failed:\n{stderr[-3000:]}"
        assert not any(marker in stderr.lower() for marker in LOCK_ERROR_MARKERS), stderr[-3000:]

    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records(dg.RunsFilter(job_name=JOB_NAME))
        assert len(records) == len(MONTHS)
        assert {record.dagster_run.status for record in records} == {dg.DagsterRunStatus.SUCCESS}
        assert sorted(record.dagster_run.tags["dagster/partition"] for record in records) == MONTHS
        # The runs really overlapped: most of them were in progress at the same moment.
        assert _max_overlap(records) >= len(MONTHS) // 2

        for key in monthly_asset_keys():
            materializations = instance.fetch_materializations(key, limit=1000).records
            partitions = [record.partition_key for record in materializations]
            assert sorted(partitions) == MONTHS, f"{key.to_user_string()}: {partitions}"

        for record in records:
            for event in instance.all_logs(record.dagster_run.run_id):
                message = (event.message or "").lower()
                assert not any(marker in message for marker in LOCK_ERROR_MARKERS), event.message

    flights_landed = _landed_rows_by_month(landing_dir, "flights")
    weather_landed = _landed_rows_by_month(landing_dir, "weather")
    assert sum(flights_landed.values()) == 336_776
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        raw_flights = conn.execute(
            "select month, count(*), count(distinct _loaded_at), count(distinct _source_file) "
            "from raw.flights group by month"
        ).fetchall()
        staged_flights = dict(
            conn.execute("select month(flight_date), count(*) from staging.flights group by 1").fetchall()
        )
        raw_weather = dict(conn.execute("select month, count(*) from raw.weather group by month").fetchall())
        staged_weather = dict(
            conn.execute(
                "select month(observation_date), count(*) from staging.weather group by 1"
            ).fetchall()
        )
    # One load per month: each month's rows come from one file in one load, and there are as many
    # as the file holds — none lost, none doubled.
    assert {month: (rows, loads, files) for month, rows, loads, files in raw_flights} == {
        month: (rows, 1, 1) for month, rows in flights_landed.items()
    }
    assert staged_flights == flights_landed
    assert raw_weather == weather_landed
    assert staged_weather == weather_landed
