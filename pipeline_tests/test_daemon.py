"""The real daemon: a dropped monthly file becomes exactly one successful run for its month.

``dagster-daemon run`` and the code location's gRPC server run as separate process sessions with a
temporary DAGSTER_HOME (the project's dagster.yaml) and every data path under tmp_path. The landing
folder starts with the dimension files only; the sensor loads them, then one month's flights file
is dropped, and dropped again. The asset daemon is switched off in this instance so that every
run counted here is the landing sensor's (automation is tested in test_automation.py).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipeline.constants import PROJECT_ROOT
from pipeline.automation.sensors import LANDING_SENSOR_INTERVAL_SECONDS
from pipeline.warehouse.connection import connect

MARCH = "2013-03-01"
MARCH_FILE = "flights_2013-03.csv"
DIMENSION_FILES = ("airlines.csv", "airports.csv", "planes.csv")
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
STARTUP_TIMEOUT_SECONDS = 240
FILE_TO_RUN_TIMEOUT_SECONDS = 180
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _descendants(roots: set[int]) -> set[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            children[int(stat.read_text().rsplit(")", 1)[1].split()[1])].append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    found, pending = set(), list(roots)
    while pending:
        for child in children[pending.pop()]:
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _stop(processes: list[subprocess.Popen], port: int) -> None:
    """SIGTERM each session, a grace period, then SIGKILL; nothing of ours may survive or listen."""
    started = {process.pid for process in processes}
    ours = started | _descendants(started)
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 20
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    for pid in ours - started:  # a run worker that left our sessions
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    assert not [pid for pid in ours if _alive(pid)], "a process of the test stack survived"
    assert not _listening(port), f"something still listens on 127.0.0.1:{port}"


def _deliver(source: Path, landing_dir: Path) -> None:
    """As upstream does: write under a temporary name, rename when complete."""
    partial = landing_dir / (source.name + ".part")
    shutil.copyfile(source, partial)
    partial.replace(landing_dir / source.name)


@pytest.fixture
def stack(tmp_path, seeded_landing):
    home = tmp_path / "dagster_home"
    home.mkdir()
    instance_config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    instance_config["auto_materialize"] = {"enabled": False, "use_sensors": False}
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance_config))
    landing_dir = tmp_path / "landing"
    landing_dir.mkdir()
    for name in DIMENSION_FILES:
        _deliver(seeded_landing / name, landing_dir)
    port = _free_port()
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        yaml.safe_dump(
            {"load_from": [{"grpc_server": {"host": "127.0.0.1", "port": port, "location_name": "flights"}}]}
        )
    )
    env = {
        **{key: value for key, value in os.environ.items() if key != "ALERT_WEBHOOK_URL"},
        "DAGSTER_HOME": str(home),
        "WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        "LANDING_DIR": str(landing_dir),
        "QUARANTINE_DIR": str(tmp_path / "quarantine"),
        "ARCHIVE_DIR": str(tmp_path / "archive"),
        "REPORT_DIR": str(tmp_path / "reports"),
        "EXPORT_DIR": str(tmp_path / "exports"),
        "BACKUP_DIR": str(tmp_path / "backups"),
        "ALERT_LOG_PATH": str(tmp_path / "alerts.jsonl"),
    }
    processes: list[subprocess.Popen] = []

    def start(name: str, *command: str) -> None:
        log = open(tmp_path / f"{name}.log", "wb")
        processes.append(
            subprocess.Popen(
                command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )
        log.close()

    try:
        start("code_server", str(BIN / "dagster"), "api", "grpc", "-m", "pipeline.definitions",
              "--host", "127.0.0.1", "--port", str(port))
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not _listening(port):
            assert processes[0].poll() is None, (tmp_path / "code_server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the code server did not start listening"
            time.sleep(0.5)
        start("daemon", str(BIN / "dagster-daemon"), "run", "-w", str(workspace))
        with dg.DagsterInstance.from_config(str(home)) as instance:
            yield {"instance": instance, "landing": landing_dir, "root": tmp_path, "processes": processes}
    finally:
        _stop(processes, port)


def _landing_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    records = instance.get_run_records(filters=dg.RunsFilter(tags={"dagster/sensor_name": "landing_sensor"}))
    return [record.dagster_run for record in records]


def _wait_for_finished_run(stack, matches, timeout: float) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process, name in zip(stack["processes"], ("code_server", "daemon")):
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
    settling = [i for i, reason in enumerate(reasons) if reason.endswith(f"still being written: {MARCH_FILE}.")]
    return bool(settling) and "No new complete landing files." in reasons[settling[0] + 1 :]


def test_dropped_file_launches_exactly_one_successful_run_for_its_partition(stack, seeded_landing):
    instance = stack["instance"]

    dimensions = _wait_for_finished_run(
        stack, lambda run: "dagster/partition" not in run.tags, STARTUP_TIMEOUT_SECONDS
    )
    assert dimensions.status == dg.DagsterRunStatus.SUCCESS
    assert dimensions.asset_selection == {dg.AssetKey(["raw", name.removesuffix(".csv")]) for name in DIMENSION_FILES}

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
    assert [r.dagster_run.run_id for r in all_runs if r.dagster_run.tags.get("dagster/partition") == MARCH] == [march.run_id]
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
