"""The event-driven path under a real daemon: one run per delivery, nothing loaded twice, a writer
that pauses is waited for.

Each stack is a code server and ``dagster-daemon run`` (pipeline_tests/automation/stack.py) with
the automation sensor running, as deployed: a run counted here is whatever the daemon launched.
The landing sensor's settle interval is 2 s (its default) and the incomplete limit is shortened
to LIMIT_SECONDS so that an abandoned file is given up on within the test.
"""

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from pipeline.warehouse.connection import connect
from pipeline_tests.automation.stack import REPORT, deliver, start_stack, stop_stack
from pipeline_tests.processes import PROJECT_ROOT, server_environment
from pipeline_tests.support import read_note

pytestmark = pytest.mark.integration

DG = str(Path(sys.executable).parent / "dg")
PAUSE_SECONDS = 12  # a writer's pause: longer than the settle interval and two sensor intervals
LIMIT_SECONDS = 40  # incomplete past this: told, then quarantined (default one hour)
SETTINGS = {"LANDING_SETTLE_SECONDS": "2", "LANDING_INCOMPLETE_LIMIT_SECONDS": str(LIMIT_SECONDS)}
DIMENSIONS = ("airlines.csv", "airports.csv", "planes.csv")
FIRST_DELIVERY = (
    *DIMENSIONS,
    *(f"{table}_2013-0{m}.csv" for table in ("flights", "weather") for m in (1, 2, 3)),
)
MARTS = [
    dg.AssetKey(["marts", name])
    for name in ("carrier_monthly_performance", "route_performance", "weather_impact", "fleet_performance")
]
RAW_FLIGHTS = dg.AssetKey(["raw", "flights"])


def data_rows(content: bytes) -> int:
    return content.count(b"\n") - 1


def rows_per_month(stack, table: str) -> dict[int, int]:
    with connect(stack.root / "warehouse.duckdb", read_only=True) as conn:
        return dict(conn.execute(f"select month, count(*) from raw.{table} group by month").fetchall())


def partitions(materializations) -> list[str | None]:
    return sorted(m.partition for m in materializations)


def test_after_full_refresh_the_daemon_loads_nothing_again(tmp_path, seeded_landing):
    landing = tmp_path / "landing"
    landing.mkdir()
    for source in sorted(seeded_landing.glob("*.csv")):
        deliver(source, landing)

    def full_refresh(home: Path) -> None:  # what deploy/quickstart.sh does before the UI starts
        env = {**server_environment(tmp_path, dagster_home=home), **SETTINGS}
        subprocess.run([DG, "launch", "--job", "full_refresh"], cwd=PROJECT_ROOT, env=env, check=True,
                       capture_output=True, timeout=900)  # fmt: skip

    stack = start_stack(tmp_path, SETTINGS, before=full_refresh)
    try:
        started = time.time()
        [refresh] = stack.runs()
        assert refresh.job_name == "full_refresh" and refresh.status == dg.DagsterRunStatus.SUCCESS
        landing_ticks = stack.wait(
            lambda: len(ticks := stack.ticks("landing_sensor", started)) >= 3 and ticks,
            600,
            "three landing sensor ticks",
        )
        stack.wait(lambda: len(stack.ticks("automation_sensor", started)) >= 2, 600, "two automation ticks")

        assert stack.runs(started) == []
        assert all(not tick.run_ids for tick in landing_ticks)
        assert "27 file(s) hold the loaded version" in landing_ticks[0].skip_reason
    finally:
        stop_stack(stack)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("daemon"), SETTINGS)
    try:
        running.wait(lambda: running.ticks("landing_sensor", 0), 600, "a first landing sensor tick")
        yield running
    finally:
        stop_stack(running)


@pytest.fixture(scope="module")
def first_delivery(stack, seeded_landing):
    since = time.time()
    for name in FIRST_DELIVERY:
        deliver(seeded_landing / name, stack.landing)
    return since, stack.quiet_runs(since)


def test_a_delivery_of_months_and_dimension_files_is_one_run_to_the_report(
    stack, first_delivery, seeded_landing
):
    since, runs = first_delivery

    [run] = runs
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert run.tags["dagster/sensor_name"] == "landing_sensor"
    assert set(run.tags["landing/file"].split(", ")) == set(FIRST_DELIVERY)
    for table in ("flights", "weather"):
        expected = {m: data_rows((seeded_landing / f"{table}_2013-0{m}.csv").read_bytes()) for m in (1, 2, 3)}
        assert rows_per_month(stack, table) == expected
    assert rows_per_month(stack, "flights")[1] == 27_004
    assert len(stack.materializations(REPORT, since)) == 1


def test_a_correction_reloads_exactly_its_month_then_the_marts_and_report_once(
    stack, first_delivery, seeded_landing
):
    february = seeded_landing / "flights_2013-02.csv"

    # The same content dropped again is recognised and not loaded.
    redropped = time.time()
    deliver(february, stack.landing)
    stack.wait(
        lambda: any("hold the loaded version" in (t.skip_reason or "") for t in stack.ticks("landing_sensor", redropped + 2)),
        300,
        "a landing tick that found the re-dropped file loaded",
    )  # fmt: skip

    since = time.time()
    corrected = b"".join(february.read_bytes().splitlines(keepends=True)[:-1])
    deliver(february, stack.landing, corrected)
    [run] = stack.quiet_runs(since)

    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert run.tags["dagster/partition"] == "2013-02-01"
    assert stack.runs(redropped) == [run]
    assert partitions(stack.materializations(RAW_FLIGHTS, since)) == ["2013-02-01"]
    assert partitions(stack.materializations(dg.AssetKey(["staging", "flights"]), since)) == ["2013-02-01"]
    assert stack.materializations(dg.AssetKey(["raw", "weather"]), since) == []
    for key in [*MARTS, REPORT]:
        assert len(stack.materializations(key, since)) == 1, key
    assert rows_per_month(stack, "flights")[2] == data_rows(corrected)


def test_a_paused_writer_is_waited_for_and_an_abandoned_file_quarantined_whole(
    stack, first_delivery, seeded_landing
):
    since = time.time()
    march = stack.landing / "flights_2013-03.csv"
    content = b"".join((seeded_landing / march.name).read_bytes().splitlines(keepends=True)[:-2])
    cut = content.index(b"\n", len(content) // 2) - 10  # mid-line
    abandoned = (seeded_landing / "weather_2013-03.csv").read_bytes()[:3000]  # mid-line too
    quarantine = stack.root / "quarantine"
    seen_in_quarantine: set[str] = set()

    def pause() -> None:
        end = time.monotonic() + PAUSE_SECONDS
        while time.monotonic() < end:
            seen_in_quarantine.update(p.name for p in quarantine.glob("*") if quarantine.is_dir())
            time.sleep(0.2)

    with open(stack.landing / "weather_2013-03.csv", "wb") as crashed:  # a writer that dies mid-file
        crashed.write(abandoned)
    with open(march, "wb") as writer:  # rewritten in place: 0 bytes, a pause, half a line, a pause
        pause()
        writer.write(content[:cut])
        writer.flush()
        pause()
        writer.write(content[cut:])

    runs = stack.quiet_runs(since)
    notes = stack.wait(
        lambda: list(quarantine.glob("*weather_2013-03.csv.reason.json")), 600, "the quarantine note"
    )

    assert not any(march.name in name for name in seen_in_quarantine | {p.name for p in quarantine.iterdir()})
    [run] = runs
    assert run.status == dg.DagsterRunStatus.SUCCESS and run.tags["landing/file"] == march.name
    [loaded] = stack.materializations(RAW_FLIGHTS, since)
    assert loaded.partition == "2013-03-01"
    [source] = [f for f in loaded.metadata["source_files"].data if f["file"] == march.name]
    assert source["sha256"] == hashlib.sha256(content).hexdigest()
    assert rows_per_month(stack, "flights")[3] == data_rows(content)

    [note_path] = notes
    note = read_note(note_path)
    assert Path(note["quarantined_path"]).read_bytes() == abandoned
    assert (note["size_bytes"], note["sha256"]) == (len(abandoned), hashlib.sha256(abandoned).hexdigest())
    assert not (stack.landing / "weather_2013-03.csv").exists()
    alerts = (stack.root / "alerts.jsonl").read_text()
    assert '"kind": "incomplete_landing_file"' in alerts and "weather_2013-03.csv" in alerts
