"""The real daemon: a dropped monthly file becomes exactly one successful run for its month.

``dagster-daemon run`` and the code location's gRPC server run as separate process sessions with a
temporary DAGSTER_HOME (the project's dagster.yaml) and every data path under tmp_path, started and
stopped with deploy.processes (pipeline_tests/processes.py). The landing
folder starts with the dimension files only; the sensor loads them, then one month's flights file
is dropped, and dropped again. The asset daemon is switched off in this instance so that every
run counted here is the landing sensor's (automation is tested in test_automation.py).
"""

import shutil
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from deploy import processes
from pipeline.automation.sensors import LANDING_SENSOR_INTERVAL_SECONDS
from pipeline.warehouse.connection import connect
from pipeline_tests.processes import (
    dagster_home,
    server_environment,
    start_code_server,
    start_daemon,
    wait_for_port,
)

MARCH = "2013-03-01"
MARCH_FILE = "flights_2013-03.csv"
DIMENSION_FILES = ("airlines.csv", "airports.csv", "planes.csv")
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
STARTUP_TIMEOUT_SECONDS = 240
FILE_TO_RUN_TIMEOUT_SECONDS = 180
STOP_GRACE_SECONDS = 20

pytestmark = pytest.mark.integration


def _deliver(source: Path, landing_dir: Path) -> None:
    """As upstream does: write under a temporary name, rename when complete."""
    partial = landing_dir / (source.name + ".part")
    shutil.copyfile(source, partial)
    partial.replace(landing_dir / source.name)


@pytest.fixture
def stack(tmp_path, seeded_landing):
    home = dagster_home(tmp_path / "dagster_home", auto_materialize={"enabled": False, "use_sensors": False})
    landing_dir = tmp_path / "landing"
    landing_dir.mkdir()
    for name in DIMENSION_FILES:
        _deliver(seeded_landing / name, landing_dir)
    port = processes.free_port()
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        yaml.safe_dump(
            {"load_from": [{"grpc_server": {"host": "127.0.0.1", "port": port, "location_name": "flights"}}]}
        )
    )
    env = server_environment(tmp_path, dagster_home=home)
    started: list = []
    try:
        code_server_log = tmp_path / "code_server.log"
        started.append(start_code_server(env, port, log=code_server_log, cwd=tmp_path))
        wait_for_port(started[0], port, code_server_log, STARTUP_TIMEOUT_SECONDS)
        started.append(start_daemon(env, tmp_path / "daemon.log", "-w", str(workspace), cwd=tmp_path))
        with dg.DagsterInstance.from_config(str(home)) as instance:
            yield {"instance": instance, "landing": landing_dir, "root": tmp_path, "processes": started}
    finally:
        # Both sessions and any run worker that left them; nothing may survive or listen.
        processes.stop(*started, grace=STOP_GRACE_SECONDS, ports=[port])


def _landing_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    records = instance.get_run_records(filters=dg.RunsFilter(tags={"dagster/sensor_name": "landing_sensor"}))
    return [record.dagster_run for record in records]


def _wait_for_finished_run(stack, matches, timeout: float) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process, name in zip(stack["processes"], ("code_server", "daemon"), strict=True):
            assert process.poll() is None, (stack["root"] / f"{name}.log").read_text()[-3000:]
        runs = [run for run in _landing_runs(stack["instance"]) if matches(run)]
        if runs and runs[0].status in FINISHED:
            return runs[0]
        time.sleep(1)
    raise AssertionError(
        f"no finished run within {timeout:.0f} s; daemon log:\n"
        + (stack["root"] / "daemon.log").read_text()[-3000:]
    )


def _landing_sensor_ticks(instance: dg.DagsterInstance, after: float) -> list:
    [state] = [state for state in instance.all_instigator_state() if state.name == "landing_sensor"]
    ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, after=after)
    return [tick for tick in ticks if tick.is_completed]


def _recognised_again(ticks) -> bool:
    """The sensor saw the re-dropped file settle (one tick), then found nothing new in it."""
    reasons = [tick.skip_reason or "" for tick in sorted(ticks, key=lambda tick: tick.timestamp)]
    settling = [
        i for i, reason in enumerate(reasons) if reason.endswith(f"still being written: {MARCH_FILE}.")
    ]
    return bool(settling) and "No new complete landing files." in reasons[settling[0] + 1 :]


def test_dropped_file_launches_exactly_one_successful_run_for_its_partition(stack, seeded_landing):
    instance = stack["instance"]

    dimensions = _wait_for_finished_run(
        stack, lambda run: "dagster/partition" not in run.tags, STARTUP_TIMEOUT_SECONDS
    )
    assert dimensions.status == dg.DagsterRunStatus.SUCCESS
    assert dimensions.asset_selection == {
        dg.AssetKey(["raw", name.removesuffix(".csv")]) for name in DIMENSION_FILES
    }

    dropped_at = time.time()
    _deliver(seeded_landing / MARCH_FILE, stack["landing"])
    march = _wait_for_finished_run(
        stack, lambda run: run.tags.get("dagster/partition") == MARCH, FILE_TO_RUN_TIMEOUT_SECONDS
    )
    record = instance.get_run_record_by_id(march.run_id)
    file_to_success = record.end_time - dropped_at
    print(f"\n{MARCH_FILE} dropped → run {march.run_id} succeeded in {file_to_success:.1f} s")

    assert march.status == dg.DagsterRunStatus.SUCCESS
    assert march.asset_selection == {dg.AssetKey(["raw", "flights"])}
    all_runs = instance.get_run_records()
    assert [
        r.dagster_run.run_id for r in all_runs if r.dagster_run.tags.get("dagster/partition") == MARCH
    ] == [march.run_id]
    with connect(stack["root"] / "warehouse.duckdb", read_only=True) as conn:
        loaded = conn.execute("select count(*) from raw.flights where month = 3").fetchall()[0][0]
    with open(seeded_landing / MARCH_FILE, "rb") as source:
        assert loaded == sum(1 for _ in source) - 1

    redropped_at = time.time()
    _deliver(seeded_landing / MARCH_FILE, stack["landing"])
    deadline = time.monotonic() + 6 * LANDING_SENSOR_INTERVAL_SECONDS
    while not _recognised_again(_landing_sensor_ticks(instance, redropped_at)):
        assert time.monotonic() < deadline, "the landing sensor did not look at the file again"
        time.sleep(1)

    assert len(instance.get_run_records()) == len(all_runs)
    assert all(not tick.run_ids for tick in _landing_sensor_ticks(instance, redropped_at))
