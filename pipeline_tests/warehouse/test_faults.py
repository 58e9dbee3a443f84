"""Faults: a load killed with SIGKILL mid-write, and a warehouse held by another process.

Every process here is real: the killed load runs the raw asset in its own Python process, and the
holders are separate processes with their own DuckDB connection or the pipeline's lock. They start
and stop through deploy.processes (pipeline_tests/processes.py): each in its own session, stopped
with SIGTERM, a grace period, then SIGKILL, and nothing of it may be left afterwards.
"""

import fcntl
import os
import signal
import subprocess
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from bench.generate import scaled_lines
from deploy import processes
from pipeline import constants
from pipeline.automation.alerts import AlertNotifier
from pipeline.automation.sensors import LANDING_SENSOR_INTERVAL_SECONDS
from pipeline.definitions import defs
from pipeline.landing.resources import LandingZone
from pipeline.warehouse import connection as warehouse
from pipeline.warehouse.io_manager import WarehouseIOManager
from pipeline.warehouse.resources import Warehouse
from pipeline_tests.processes import (
    CODE_LOCATION_MODULE,
    DAGSTER,
    PROJECT_ROOT,
    dagster_home,
    server_environment,
    start_daemon,
    start_python,
    wait_for_line,
)
from pipeline_tests.support import (
    copy_zone,
    folder_asset,
    load_flights,
    make_resources,
    step_failure_message,
)

# Every test here starts helper processes (a killed load, foreign lock holders, a daemon).
pytestmark = pytest.mark.integration

JANUARY = "2013-01-01"
FLIGHTS_JANUARY = "flights_2013-01.csv"
JANUARY_ROWS = 27_004
# The replacement repeats January's rows: enough row groups that DuckDB writes them to the database
# file while the transaction is still open, which is the moment the test kills the load.
REPEATS = 10
HELPER_STOP_GRACE_SECONDS = 5
DAEMON_STOP_GRACE_SECONDS = 15

LOAD_JANUARY = textwrap.dedent(
    """
    import sys
    import dagster as dg
    from pipeline_tests.support import folder_asset
    from pipeline.warehouse.io_manager import WarehouseIOManager
    from pipeline.landing.resources import LandingZone
    from pipeline.warehouse.resources import Warehouse

    database, landing, quarantine = sys.argv[1:4]
    result = dg.materialize(
        [folder_asset("raw", "flights")],
        partition_key="2013-01-01",
        resources={
            "io_manager": WarehouseIOManager(database=database),
            "warehouse": Warehouse(path=database),
            "landing_zone": LandingZone(path=landing, quarantine_path=quarantine),
        },
    )
    print("finished", result.success, flush=True)
    """
)

HOLD_WITH_DUCKDB = textwrap.dedent(
    """
    import sys, time, duckdb
    conn = duckdb.connect(sys.argv[1])
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.close()
    """
)

HOLD_WITH_PIPELINE_LOCK = textwrap.dedent(
    """
    import sys, time
    from pipeline.warehouse.connection import warehouse_lock
    with warehouse_lock(sys.argv[1], timeout_seconds=5):
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def pipeline_lock_is_held(database: Path) -> bool:
    """Whether some process holds the pipeline's lock on ``database`` (probed without waiting)."""
    fd = os.open(database.with_name(database.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def january_loads(database: Path) -> list[tuple]:
    """January's row count per load time: one entry means the partition holds one load's rows."""
    with warehouse.connect(database, timeout_seconds=30) as conn:
        return conn.execute(
            "select count(*), _loaded_at from raw.flights where month = 1 group by _loaded_at"
        ).fetchall()


@pytest.fixture
def january(tmp_path, loaded_january):
    """A copy of the warehouse holding January's flights, and of the folders it was loaded from."""
    zone = copy_zone(loaded_january, tmp_path)
    return {"landing": zone["landing"], "database": zone["database"], "root": tmp_path}


def test_a_load_killed_mid_write_leaves_the_month_whole_and_a_rerun_succeeds(january):
    database = january["database"]
    [(old_rows, old_loaded_at)] = january_loads(database)
    landed = january["landing"] / FLIGHTS_JANUARY
    header, *rows = landed.read_bytes().splitlines(keepends=True)
    new_rows = JANUARY_ROWS * REPEATS
    landed.write_bytes(header + b"".join(scaled_lines(rows, new_rows, seed=1, month="2013-01")))
    size_before = database.stat().st_size

    log = january["root"] / "killed_load.log"
    load = start_python(LOAD_JANUARY, database, january["landing"], january["root"] / "quarantine", log=log)
    try:
        deadline = time.monotonic() + 120
        # The write has begun once the load holds the lock and new rows reach the file.
        while not (pipeline_lock_is_held(database) and database.stat().st_size > size_before):
            assert load.poll() is None, f"the load ended before it was killed: {log.read_text()}"
            assert time.monotonic() < deadline, "the load never started writing"
            time.sleep(0.005)
        os.killpg(load.pid, signal.SIGKILL)
        assert load.wait(timeout=10) == -signal.SIGKILL
    finally:
        processes.stop(load, grace=HELPER_STOP_GRACE_SECONDS)

    # On open DuckDB recovers to the last commit: the killed transaction is gone as a whole.
    assert january_loads(database) == [(old_rows, old_loaded_at)]
    assert old_rows == JANUARY_ROWS

    result = load_flights(make_resources(january["root"], january["landing"]), JANUARY)
    assert result.success
    [(rows_now, _)] = january_loads(database)
    assert rows_now == new_rows


@contextmanager
def _holding(script: str, database: Path, seconds: float) -> Iterator[subprocess.Popen]:
    """A helper process holding the warehouse (``script``) for ``seconds``, stopped on leaving."""
    holder = start_python(script, database, seconds)
    try:
        wait_for_line(holder, "holding")
        yield holder
    finally:
        processes.stop(holder, grace=HELPER_STOP_GRACE_SECONDS)


def _load_january(january, lock_timeout_seconds: float) -> dg.ExecuteInProcessResult:
    """raw/flights for January, waiting at most ``lock_timeout_seconds`` for the warehouse."""
    database = january["database"]
    return dg.materialize(
        [folder_asset("raw", "flights")],
        partition_key=JANUARY,
        resources={
            "io_manager": WarehouseIOManager(
                database=str(database), lock_timeout_seconds=lock_timeout_seconds
            ),
            "warehouse": Warehouse(path=str(database), lock_timeout_seconds=lock_timeout_seconds),
            "landing_zone": LandingZone(
                path=str(january["landing"]), quarantine_path=str(january["root"] / "q")
            ),
        },
        raise_on_error=False,
    )


def test_a_warehouse_held_by_a_foreign_process_fails_the_step_after_retrying(january):
    database = january["database"]
    before = january_loads(database)
    with _holding(HOLD_WITH_DUCKDB, database, 60) as holder:
        started = time.monotonic()
        result = _load_january(january, lock_timeout_seconds=2)
        waited = time.monotonic() - started

    assert not result.success
    message = step_failure_message(result)
    assert f"Warehouse {database} is held by a process outside this pipeline" in message
    assert f"PID {holder.pid}" in message
    assert waited >= 2, "the step retried until its deadline rather than failing at once"
    assert january_loads(database) == before
    assert (january["landing"] / FLIGHTS_JANUARY).exists(), "a lock is not the file's fault"


def test_a_step_waiting_on_a_foreign_hold_succeeds_once_it_is_released(january):
    database = january["database"]
    with _holding(HOLD_WITH_DUCKDB, database, 1.5) as holder:
        started = time.monotonic()
        result = load_flights(make_resources(january["root"], january["landing"]), JANUARY)
        waited = time.monotonic() - started
        assert holder.wait(timeout=30) == 0

    assert result.success
    assert waited >= 1.0
    assert [rows for rows, _ in january_loads(database)] == [JANUARY_ROWS]


def test_a_warehouse_locked_by_another_run_fails_naming_the_holder(january):
    database = january["database"]
    before = january_loads(database)
    with _holding(HOLD_WITH_PIPELINE_LOCK, database, 60) as holder:
        result = _load_january(january, lock_timeout_seconds=1)

    assert not result.success
    message = step_failure_message(result)
    assert f"Warehouse {database} is locked by another process (PID {holder.pid})" in message
    assert "retry when that run has finished" in message
    assert january_loads(database) == before


def test_a_reader_waits_for_a_writer_instead_of_failing(january):
    database = january["database"]
    with _holding(HOLD_WITH_PIPELINE_LOCK, database, 1.5):
        started = time.monotonic()
        # Asset checks read through the warehouse resource, like this.
        with Warehouse(path=str(database), lock_timeout_seconds=30).connect(read_only=True) as conn:
            rows = conn.execute("select count(*) from raw.flights").fetchall()[0][0]
        waited = time.monotonic() - started

    assert rows == JANUARY_ROWS
    assert waited >= 1.0, "the reader queued behind the writer's lock"


def test_the_landing_sensor_evaluates_while_the_warehouse_is_held(january):
    database = january["database"]
    an_hour_ago = time.time() - 3600
    os.utime(january["landing"] / FLIGHTS_JANUARY, (an_hour_ago, an_hour_ago))
    holders = [
        start_python(HOLD_WITH_DUCKDB, database, 60),
        start_python(HOLD_WITH_PIPELINE_LOCK, database, 60),
    ]
    try:
        for holder in holders:
            wait_for_line(holder, "holding")
        resources = {
            "landing_zone": LandingZone(path=str(january["landing"])),
            "notifier": AlertNotifier(log_path=str(january["root"] / "alerts.jsonl")),
        }
        with dg.instance_for_test() as instance:
            started = time.monotonic()
            result = defs.resolve_sensor_def("landing_sensor")(
                dg.build_sensor_context(resources=resources, instance=instance, definitions=defs)
            )
            took = time.monotonic() - started
    finally:
        for holder in holders:
            processes.stop(holder, grace=HELPER_STOP_GRACE_SECONDS)

    assert [request.partition_key for request in result.run_requests] == [JANUARY]
    assert took < 5, "the sensor never waits on the warehouse"


# --- The daemon restarted while files keep arriving ------------------------------------------

SETTLED = time.time() - 3600  # an mtime the landing sensor treats as a complete file


def land(seeded_landing: Path, landing_dir: Path, name: str) -> None:
    """Drop a file the way upstream does: written under a partial name, renamed when complete."""
    partial = landing_dir / f"{name}.part"
    partial.write_bytes((seeded_landing / name).read_bytes())
    os.utime(partial, (SETTLED, SETTLED))
    partial.replace(landing_dir / name)


def landing_runs(home: Path) -> list:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return list(instance.get_runs(filters=dg.RunsFilter(job_name="load_landed_files")))


def wait_for_loads(
    home: Path, files: set[str], log: Path, finished: bool = True, timeout: float = 420
) -> list:
    """The landing runs once every file in ``files`` has a run (finished, like all others)."""
    deadline = time.monotonic() + timeout
    while True:
        runs = landing_runs(home)
        # One run per delivery: a run's tag names every file it loaded, comma-separated.
        done = {
            name
            for run in runs
            if run.is_finished or not finished
            for name in run.tags.get("landing/file", "").split(", ")
        }
        if files <= done and (not finished or all(run.is_finished for run in runs)):
            return runs
        assert time.monotonic() < deadline, (
            f"loads of {sorted(files - done)} not there after {timeout:.0f} s; runs: "
            f"{[(run.tags.get('landing/file'), run.status) for run in runs]}\n" + log.read_text()[-3000:]
        )
        time.sleep(1)


def test_a_daemon_restarted_while_files_arrive_loads_each_file_once(tmp_path, seeded_landing):
    home = dagster_home(tmp_path / "dagster_home")
    environment = server_environment(tmp_path, dagster_home=home)
    landing_dir = Path(environment[constants.LANDING_DIR_ENV])
    landing_dir.mkdir()
    log = tmp_path / "daemon.log"
    # Only the landing sensor matters here; automation would add runs for the layers downstream.
    subprocess.run(
        [DAGSTER, "sensor", "stop", "automation_sensor", "-m", CODE_LOCATION_MODULE],
        cwd=PROJECT_ROOT, env=environment, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    january, february, march = (f"flights_2013-{month:02d}.csv" for month in (1, 2, 3))

    daemons = [start_daemon(environment, log)]
    try:
        land(seeded_landing, landing_dir, january)
        wait_for_loads(home, {january}, log, finished=False)
        land(seeded_landing, landing_dir, february)
        time.sleep(LANDING_SENSOR_INTERVAL_SECONDS / 2)
        # A crash, not a shutdown: only the daemon dies, mid-interval, so February may or may not
        # have been requested yet; runs already launched (January's) carry on.
        os.kill(daemons[0].pid, signal.SIGKILL)
        daemons[0].wait(timeout=10)
        land(seeded_landing, landing_dir, march)  # lands while no daemon runs
        daemons.append(start_daemon(environment, log))
        # The tick that requests March would request a second January or February run too.
        runs = wait_for_loads(home, {january, february, march}, log)
    finally:
        processes.stop(*daemons, grace=DAEMON_STOP_GRACE_SECONDS)

    months = [january, february, march]
    loaded = sorted(name for run in runs for name in run.tags["landing/file"].split(", "))
    assert loaded == months, "every file loaded exactly once (files landing together share a run)"
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    assert len({run.tags["dagster/run_key"] for run in runs}) == len(runs)
    with duckdb.connect(environment[constants.WAREHOUSE_PATH_ENV], read_only=True) as conn:
        stored = conn.execute(
            "select _source_file, count(*) from raw.flights group by 1 order by 1"
        ).fetchall()
    with duckdb.connect() as conn:
        source_rows = "select count(*) from read_csv(?)"
        expected = [
            (name, conn.execute(source_rows, [str(seeded_landing / name)]).fetchall()[0][0])
            for name in months
        ]
    assert stored == expected
