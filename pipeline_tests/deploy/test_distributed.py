"""Runs that execute anywhere: the stack on the DuckLake backend, runs as Celery tasks on Redis.

``python -m deploy.stack up`` with ``WAREHOUSE_BACKEND=ducklake`` starts the code server, the
operators' webserver, the read-only viewer, two Celery workers and the daemon, on an instance
whose run launcher is ``CeleryRunLauncher`` (deploy/dagster-celery.yaml). The lake's catalog and
Dagster's storage are PostgreSQL databases made for the module and dropped afterwards; the Celery
queue is the module's own, so no other stack on the broker takes its runs.

Six months are re-delivered and refreshed as concurrent runs through the workers: every month is
there exactly once with the rows of its file, no run failed on a commit conflict, and on every
table ``count(*)`` equals a full scan.

The stress test (issue #20) runs ``full_refresh``, then three rounds of six month runs re-delivered
with a few hundred rows fewer and launched 0–10 s apart (pipeline_tests/overlap.py): no run may
fail, after every round each mart equals its SQL over staging and flights per month equal the
landed files, and at the end the marts equal a fresh ``full_refresh`` of the same files. It prints
``ducklake: N overlapping runs tried, M failed`` (``-s`` or ``-rP``).
"""

from __future__ import annotations

import secrets

import pytest

from deploy import health, processes
from pipeline.defs.raw import seed as landing_seed
from pipeline.landing import landed_tables as landing
from pipeline.warehouse import connection as warehouse
from pipeline_tests import lake, overlap
from pipeline_tests.stack_harness import LAUNCH_RUN, REPOSITORY_SELECTOR, pg_connect, running_stack
from pipeline_tests.support import ALL_MONTHS

REDIS = "redis://127.0.0.1:6379/0"
MONTHS = [f"2013-{month:02d}-01" for month in range(1, 13)]
REDELIVERED = MONTHS[:6]
DROPPED_ROWS = 500
CELERY_TASK_ID_TAG = "dagster-celery/task_id"
OVERLAP_ROUNDS = 3


@pytest.fixture(scope="module")
def distributed(tmp_path_factory, postgres_server, redis_server):
    root = tmp_path_factory.mktemp("distributed")
    with lake.lake_catalog() as catalog:
        environment = {
            **lake.lake_environment(catalog, root / "data" / "lake"),
            "DAGSTER_CELERY_BROKER_URL": REDIS,
            "DAGSTER_CELERY_BACKEND_URL": REDIS,
            "DAGSTER_CELERY_QUEUE": f"flights-test-{secrets.token_hex(4)}",
        }
        with running_stack(root, environment) as handle:
            # The runs here are launched explicitly; sensors would add runs of their own.
            handle.stop_running_sensors()
            yield {"stack": handle, "catalog": catalog, "data_path": root / "data" / "lake"}


@pytest.mark.integration
@lake.requires_lake
def test_stack_runs_two_webservers_and_celery_workers_on_the_lake(distributed):
    stack = distributed["stack"].stack
    workers = [c for c in stack.components if c.startswith("worker-")]
    assert len(workers) >= 2
    for component in ("code-server", "webserver", "viewer", "daemon", *workers):
        healthy, detail = stack.check(component)
        assert healthy, (component, detail)
    assert "--read-only" in stack.command("viewer") and "--read-only" not in stack.command("webserver")
    instance = (stack.settings.home / "dagster.yaml").read_text()
    assert "CeleryRunLauncher" in instance

    # Viewers see everything and can launch nothing; operators launch on the same instance.
    params = {"selector": {**REPOSITORY_SELECTOR, "jobName": "full_refresh"}}
    refused = health.graphql(stack.settings.viewer_url, LAUNCH_RUN, {"params": params})["launchRun"]
    assert refused["__typename"] == "UnauthorizedError", refused
    assert processes.is_listening(stack.settings.host, stack.settings.viewer_port)


@pytest.mark.integration
@lake.requires_lake
def test_concurrent_month_runs_on_celery_workers_load_every_month_once(distributed):
    handle, catalog, data_path = distributed["stack"], distributed["catalog"], distributed["data_path"]
    landing_seed.seed(handle.landing_dir)
    (first,) = handle.wait_for_runs(run_ids=[handle.launch_run("full_refresh", tags=ALL_MONTHS)], timeout=900)
    assert first["status"] == "SUCCESS", handle.stack.log_tail("worker-1") + handle.stack.log_tail("worker-2")

    expected = {
        int(key[5:7]): lake.redeliver_smaller(
            handle.landing_dir / landing.monthly_file_name("flights", key), DROPPED_ROWS
        )
        for key in REDELIVERED
    }
    run_ids = [handle.launch_run("monthly_refresh", tags={"dagster/partition": key}) for key in REDELIVERED]
    runs = handle.wait_for_runs(run_ids=run_ids, count=len(run_ids), timeout=1800)
    failed = [run for run in runs if run["status"] != "SUCCESS"]
    assert not failed, (failed, handle.stack.log_tail("worker-1", 60), handle.stack.log_tail("worker-2", 60))
    assert all(CELERY_TASK_ID_TAG in run["tags"] for run in runs)  # each run was a Celery task

    # Every worker executed runs: the work was spread, not serialized on one process.
    for worker in ("worker-1", "worker-2"):
        log = (handle.stack.settings.log_dir / f"{worker}.log").read_text()
        assert log.count("succeeded in") >= 2, worker

    with lake.lake_connection(catalog, data_path) as conn:
        for table in ("raw.flights", "staging.flights"):
            per_month = lake.flights_by_month(conn, table)
            for number, key in enumerate(MONTHS, start=1):
                file_rows = lake.csv_rows(handle.landing_dir / landing.monthly_file_name("flights", key))
                assert per_month[number] == file_rows, (table, key)
                if key in REDELIVERED:
                    assert per_month[number] == expected[number]
        assert lake.inconsistent_tables(conn) == {}

    # No commit conflict reached a run's log (the advisory locks serialized writers per table).
    with pg_connect(handle.database) as conn, conn.cursor() as cursor:
        cursor.execute("select count(*) from event_logs where event ilike '%%transaction conflict%%'")
        assert cursor.fetchone()[0] == 0


@pytest.mark.integration
@lake.requires_lake
def test_overlapping_month_runs_end_as_if_run_one_at_a_time_on_the_lake(distributed, tmp_path):
    handle, catalog, data_path = distributed["stack"], distributed["catalog"], distributed["data_path"]
    landing_seed.seed(handle.landing_dir)  # the files as first delivered (another test re-delivered some)
    (first,) = handle.wait_for_runs(run_ids=[handle.launch_run("full_refresh", tags=ALL_MONTHS)], timeout=900)
    assert first["status"] == "SUCCESS", overlap.failure_reasons(handle, first["runId"])

    def read():
        return lake.lake_connection(catalog, data_path)

    tally = overlap.Tally("ducklake")
    try:
        overlap.overlapping_rounds(handle, read, tally, rounds=OVERLAP_ROUNDS)
    finally:
        print(tally.summary(), *tally.failures, sep="\n")

    with read() as conn:
        ours = overlap.marts_contents(conn)
        assert lake.inconsistent_tables(conn) == {}
    fresh = overlap.fresh_full_refresh(handle.landing_dir, tmp_path / "fresh")  # a DuckDB file
    with warehouse.connect(fresh, read_only=True) as conn:
        rebuilt = overlap.marts_contents(conn)
    differences = {
        name: d for name in overlap.MARTS if (d := overlap.rows_differences(ours[name], rebuilt[name]))
    }
    assert not differences, f"the marts differ from a fresh full_refresh of the same files: {differences}"
    assert not tally.failures, tally.summary() + ":\n" + "\n".join(tally.failures)
