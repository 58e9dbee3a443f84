"""The landing sensor's decisions, evaluated with ``evaluate_tick`` on a real instance and folder.

What is loaded comes from the instance (a real load, or the materialization a load records); runs
in flight are real run records; the notifier writes a real alert log. The daemon itself, launching
the runs, is in test_event_driven.py.
"""

import gzip
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.utils import make_new_run_id  # not exported

from pipeline.automation.alerts import AlertNotifier
from pipeline.automation.readiness import looks_complete
from pipeline.automation.zone_observations import LANDING_ZONE_KEY
from pipeline.definitions import defs
from pipeline.defs.raw.landed import LANDED_TABLES
from pipeline.landing.names import FileKind, classify_landing_file
from pipeline.landing.quarantine import NOTE_SUFFIX
from pipeline.landing.resources import LandingZone
from pipeline.partitions import monthly_partitions
from pipeline_tests.support import folder_asset, make_resources, read_note

PARTITION_KEYS = set(monthly_partitions.get_partition_keys())


def an_hour_ago() -> float:
    """A modification time one hour before now (taken when called: the suite runs for minutes)."""
    return time.time() - 3600


FLIGHTS = dg.AssetKey(["raw", "flights"])
WEATHER_DOWNSTREAM = {"raw/weather", "staging/weather", "marts/weather_impact", "marts/weather_delay_model"}
FLIGHTS_DOWNSTREAM = {
    "raw/flights",
    "staging/flights",
    "marts/carrier_monthly_performance",
    "marts/route_performance",
    "marts/weather_impact",
    "marts/fleet_performance",
    "marts/weather_delay_model",
    "reports/carrier_on_time",
}


@pytest.mark.parametrize(
    ("name", "kind", "table", "partition_key"),
    [
        ("flights_2013-03.csv", FileKind.MONTHLY, "flights", "2013-03-01"),
        ("weather_2013-12.csv", FileKind.MONTHLY, "weather", "2013-12-01"),
        ("planes.csv", FileKind.DIMENSION, "planes", None),
        ("flights_2013-03.csv.part", FileKind.PARTIAL, None, None),
        ("flights_2014-01.csv", FileKind.OUT_OF_RANGE, "flights", "2014-01-01"),
        ("flights_2013-3.csv", FileKind.UNEXPECTED, None, None),
        ("notes.txt", FileKind.UNEXPECTED, None, None),
    ],
)
def test_classify_landing_file(name, kind, table, partition_key):
    file_class = classify_landing_file(name, PARTITION_KEYS, LANDED_TABLES)
    assert (file_class.kind, file_class.table, file_class.partition_key) == (kind, table, partition_key)


@pytest.fixture
def zone(tmp_path, monkeypatch):
    """An empty landing folder, a real instance (in memory, as a run without DAGSTER_HOME has) and a
    notifier writing to an alert log."""
    monkeypatch.setenv("LANDING_SETTLE_SECONDS", "2")
    monkeypatch.delenv("LANDING_INCOMPLETE_LIMIT_SECONDS", raising=False)
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    landing = tmp_path / "landing"
    landing.mkdir()
    with dg.DagsterInstance.ephemeral() as instance:
        yield {
            "landing": landing,
            "instance": instance,
            "root": tmp_path,
            "alerts": tmp_path / "alerts.jsonl",
        }


def evaluate(zone, cursor: str | None = None):
    resources = {
        "landing_zone": LandingZone(
            path=str(zone["landing"]), quarantine_path=str(zone["root"] / "quarantine")
        ),
        "notifier": AlertNotifier(log_path=str(zone["alerts"])),
    }
    context = dg.build_sensor_context(
        instance=zone["instance"], cursor=cursor, resources=resources, definitions=defs
    )
    result = defs.resolve_sensor_def("landing_sensor").evaluate_tick(context)
    for event in result.asset_events:  # what the daemon does with them
        zone["instance"].report_runless_asset_event(event)
    return result


def land(seeded_landing: Path, zone, name: str, content: bytes | None = None, settled=True) -> Path:
    """Deliver ``name`` as upstream does (temporary name, then rename); settled = written long ago."""
    target = zone["landing"] / name
    partial = target.with_name(name + ".part")
    partial.write_bytes((seeded_landing / name).read_bytes() if content is None else content)
    if settled:
        os.utime(partial, (an_hour_ago(), an_hour_ago()))
    partial.replace(target)
    return target


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_loaded(zone, key: dg.AssetKey, partition: str | None, path: Path) -> None:
    """The materialization a load of ``path`` records (source_files, as pipeline/defs/raw/assets.py)."""
    source_files = [{"file": path.name, "sha256": sha256(path), "archived_copy": "elsewhere"}]
    zone["instance"].report_runless_asset_event(
        dg.AssetMaterialization(
            key, partition=partition, metadata={"source_files": dg.MetadataValue.json(source_files)}
        )
    )


def built_before(zone) -> None:
    """Every asset materialized once (the pipeline was built): nothing downstream waits for inputs."""
    graph = defs.resolve_asset_graph()
    for key in graph.materializable_asset_keys:
        partition = "2013-12-01" if graph.get(key).is_partitioned else None
        zone["instance"].report_runless_asset_event(dg.AssetMaterialization(key, partition=partition))


def selection(request: dg.RunRequest) -> set[str]:
    return {key.to_user_string() for key in request.asset_selection}


def alerts(zone) -> list[dict]:
    return (
        [json.loads(line) for line in zone["alerts"].read_text().splitlines()]
        if zone["alerts"].exists()
        else []
    )


def test_a_new_month_is_one_run_through_exactly_what_depends_on_it(seeded_landing, zone):
    built_before(zone)
    landed = land(seeded_landing, zone, "weather_2013-07.csv")

    [request] = evaluate(zone).run_requests

    assert request.partition_key == "2013-07-01"
    assert selection(request) == WEATHER_DOWNSTREAM  # not flights, not the report
    assert request.tags["landing/file"] == "weather_2013-07.csv"
    assert request.tags["landing/carried"] == "true"  # automation leaves what it updates alone
    assert (
        request.run_key
        == "delivery:" + hashlib.sha256(f"{landed.name}:{sha256(landed)}".encode()).hexdigest()
    )


def test_months_and_a_dimension_file_are_one_run_to_the_report(seeded_landing, zone):
    built_before(zone)
    names = [
        "flights_2013-03.csv",
        "flights_2013-04.csv",
        "weather_2013-03.csv",
        "weather_2013-04.csv",
        "airlines.csv",
    ]
    for name in names:
        land(seeded_landing, zone, name)

    [request] = evaluate(zone).run_requests

    assert request.partition_key is None
    assert request.tags["dagster/asset_partition_range_start"] == "2013-03-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2013-04-01"
    assert selection(request) == FLIGHTS_DOWNSTREAM | WEATHER_DOWNSTREAM | {
        "raw/airlines",
        "staging/airlines",
    }
    assert set(request.tags["landing/file"].split(", ")) == set(names)


def test_a_first_delivery_builds_only_what_has_all_its_inputs(seeded_landing, zone):
    for name in LANDED_TABLES.whole_files:
        land(seeded_landing, zone, name)

    [request] = evaluate(zone).run_requests

    # The marts also read staging/flights, which no month has built yet: they wait for one.
    dimensions = {f"{layer}/{table}" for layer in ("raw", "staging") for table in LANDED_TABLES.whole}
    assert dimensions <= selection(request)
    assert not {
        key for key in selection(request) if key.startswith(("marts/", "reports/", "staging/flights"))
    }


def test_a_file_the_warehouse_holds_is_not_loaded_again_whoever_loaded_it(seeded_landing, zone, tmp_path):
    built_before(zone)
    landed = land(seeded_landing, zone, "flights_2013-02.csv")
    loaded = dg.materialize(
        [folder_asset("raw", "flights")], partition_key="2013-02-01", instance=zone["instance"],
        resources=make_resources(tmp_path, zone["landing"]),
    )  # fmt: skip
    assert loaded.success

    tick = evaluate(zone)  # no cursor: only the instance knows

    assert tick.run_requests == []
    assert tick.skip_message.startswith("Nothing new to load: 1 file(s) hold the loaded version.")

    # A correction (upstream withdraws the last row) is new content: its month reloads.
    land(seeded_landing, zone, landed.name, b"".join(landed.read_bytes().splitlines(keepends=True)[:-1]))
    [request] = evaluate(zone, tick.cursor).run_requests
    assert request.partition_key == "2013-02-01"
    assert selection(request) == FLIGHTS_DOWNSTREAM


def test_months_apart_are_one_run_when_the_months_between_are_unchanged(seeded_landing, zone):
    january, february, march = (land(seeded_landing, zone, f"flights_2013-0{m}.csv") for m in (1, 2, 3))
    record_loaded(zone, FLIGHTS, "2013-02-01", february)

    [request] = evaluate(zone).run_requests

    assert (
        request.tags["dagster/asset_partition_range_start"],
        request.tags["dagster/asset_partition_range_end"],
    ) == (
        "2013-01-01",
        "2013-03-01",
    )
    assert request.tags["landing/file"] == f"{january.name}, {march.name}"
    assert request.tags["landing/riders"] == february.name


def test_a_month_that_cannot_ride_splits_the_delivery_and_says_why(seeded_landing, zone, capsys):
    for name in ("flights_2013-01.csv", "flights_2013-03.csv", "planes.csv"):
        land(seeded_landing, zone, name)

    requests = evaluate(zone).run_requests

    assert [(r.partition_key, r.tags["landing/file"]) for r in requests] == [
        ("2013-01-01", "planes.csv, flights_2013-01.csv"),
        ("2013-03-01", "flights_2013-03.csv"),
    ]
    assert "One run would have to reload flights 2013-02" in capsys.readouterr().err  # the tick's log


def _run_in_progress(zone, partition: str, sensor: str | None = None) -> str:
    tags = {"dagster/partition": partition} | ({"dagster/sensor_name": sensor} if sensor else {})
    run = dg.DagsterRun(
        job_name="load_landed_files", run_id=make_new_run_id(), status=dg.DagsterRunStatus.STARTED,
        tags=tags, asset_selection=frozenset({FLIGHTS}),
    )  # fmt: skip
    zone["instance"].add_run(run)
    return run.run_id


def test_a_month_a_run_is_loading_is_left_to_that_run(seeded_landing, zone):
    land(seeded_landing, zone, "flights_2013-02.csv")
    run_id = _run_in_progress(zone, "2013-02-01")  # e.g. monthly_refresh, launched from the UI

    tick = evaluate(zone)

    assert tick.run_requests == []
    assert f"Being loaded: flights_2013-02.csv (run {run_id})." in tick.skip_message


def test_new_files_wait_for_the_delivery_run_in_progress_then_go_together(seeded_landing, zone):
    _run_in_progress(zone, "2013-06-01", sensor="landing_sensor")
    for name in ("weather_2013-01.csv", "weather_2013-02.csv"):
        land(seeded_landing, zone, name)

    assert evaluate(zone).run_requests == []


@pytest.mark.integration  # waits out the settle interval twice
def test_files_still_arriving_hold_the_delivery_so_it_is_one_run(seeded_landing, zone):
    land(seeded_landing, zone, "weather_2013-01.csv", settled=False)
    time.sleep(2.5)  # the settle interval: January is ready now
    partial = zone["landing"] / "weather_2013-02.csv.part"
    partial.write_bytes((seeded_landing / "weather_2013-02.csv").read_bytes())

    held = evaluate(zone)
    assert held.run_requests == []
    assert "wait for weather_2013-02.csv.part to arrive" in held.skip_message

    partial.replace(zone["landing"] / "weather_2013-02.csv")
    time.sleep(2.5)
    [request] = evaluate(zone, held.cursor).run_requests
    assert request.tags["landing/file"] == "weather_2013-01.csv, weather_2013-02.csv"


@pytest.mark.integration  # waits out the settle interval
def test_a_file_is_ready_only_once_unchanged_for_the_settle_interval(seeded_landing, zone):
    land(seeded_landing, zone, "weather_2013-05.csv", settled=False)

    settling = evaluate(zone)
    assert settling.run_requests == []
    assert "Still arriving: weather_2013-05.csv." in settling.skip_message

    time.sleep(2.5)
    assert len(evaluate(zone, settling.cursor).run_requests) == 1


def test_a_requested_file_is_not_requested_again(seeded_landing, zone):
    land(seeded_landing, zone, "weather_2013-05.csv")
    first = evaluate(zone)
    assert len(first.run_requests) == 1

    again = evaluate(zone, first.cursor)
    assert again.run_requests == []
    assert "Requested earlier: weather_2013-05.csv." in again.skip_message


def test_incomplete_files_are_waited_for_and_never_moved(seeded_landing, zone):
    source = (seeded_landing / "flights_2013-05.csv").read_bytes()
    empty = zone["landing"] / "flights_2013-05.csv"
    empty.write_bytes(b"")
    mid_line = zone["landing"] / "weather_2013-05.csv"
    mid_line.write_bytes(source[:1000])  # the header and a few rows, cut mid-line
    for path in (empty, mid_line):
        os.utime(path, (an_hour_ago() + 60, an_hour_ago() + 60))  # paused for 59 minutes

    tick = evaluate(zone)

    assert tick.run_requests == []
    assert "Waiting for 2 incomplete file(s): flights_2013-05.csv, weather_2013-05.csv." in tick.skip_message
    assert empty.read_bytes() == b"" and mid_line.read_bytes() == source[:1000]
    assert not (zone["root"] / "quarantine").exists() and alerts(zone) == []


def test_a_file_incomplete_past_the_limit_is_told_then_quarantined_whole(seeded_landing, zone, monkeypatch):
    monkeypatch.setenv("LANDING_INCOMPLETE_LIMIT_SECONDS", "600")
    stalled = zone["landing"] / "flights_2013-05.csv"
    content = (seeded_landing / "flights_2013-05.csv").read_bytes()[:5000]
    stalled.write_bytes(content)
    os.utime(stalled, (an_hour_ago(), an_hour_ago()))

    tick = evaluate(zone)

    assert not stalled.exists()
    [note_path] = (zone["root"] / "quarantine").glob(f"*{NOTE_SUFFIX}")
    note = read_note(note_path)
    quarantined = Path(note["quarantined_path"])
    assert quarantined.read_bytes() == content
    assert (note["size_bytes"], note["sha256"]) == (len(content), hashlib.sha256(content).hexdigest())
    assert "unchanged for over 600 s" in note["reason"]
    [alert] = alerts(zone)
    assert (alert["kind"], alert["file"], alert["size_bytes"]) == (
        "incomplete_landing_file",
        stalled.name,
        5000,
    )
    [observation] = tick.asset_events
    assert observation.metadata["quarantined_by_sensor"].data[0]["quarantined_path"] == str(quarantined)


def test_a_month_outside_the_partitions_is_quarantined(seeded_landing, zone):
    landed = zone["landing"] / "flights_2014-03.csv"
    landed.write_bytes((seeded_landing / "flights_2013-03.csv").read_bytes())
    os.utime(landed, (an_hour_ago(), an_hour_ago()))

    evaluate(zone)

    assert not landed.exists()
    [note_path] = (zone["root"] / "quarantine").glob(f"*_flights_2014-03.csv{NOTE_SUFFIX}")
    assert "month 2014-03 is outside the partitions 2013-01…2013-12" in read_note(note_path)["reason"]


def test_unrecognised_files_are_told_once_shown_in_the_ui_and_left_in_place(seeded_landing, zone):
    (zone["landing"] / "notes.txt").write_text("ask upstream about March")
    (zone["landing"] / "flights_2013-3.csv").write_bytes(
        (seeded_landing / "flights_2013-03.csv").read_bytes()
    )
    (zone["landing"] / "weather_2013-01.csv").mkdir()

    first = evaluate(zone)

    assert first.run_requests == []
    assert sorted(alert["file"] for alert in alerts(zone)) == [
        "flights_2013-3.csv",
        "notes.txt",
        "weather_2013-01.csv",
    ]
    assert {alert["kind"] for alert in alerts(zone)} == {"unrecognised_landing_file"}
    [observation] = first.asset_events
    assert observation.asset_key == LANDING_ZONE_KEY
    listed = {entry["file"]: entry["reason"] for entry in observation.metadata["unrecognised_files"].data}
    assert listed["weather_2013-01.csv"].startswith("not a regular file")
    assert listed["notes.txt"].startswith("not a landing file name")

    assert evaluate(zone, first.cursor).asset_events == []
    assert evaluate(zone).asset_events == []  # without the cursor: the UI's record is the memory
    assert len(alerts(zone)) == 3
    assert {path.name for path in zone["landing"].iterdir()} == {
        "notes.txt",
        "flights_2013-3.csv",
        "weather_2013-01.csv",
    }


def test_an_unreadable_cursor_is_rebuilt_not_trusted(seeded_landing, zone):
    land(seeded_landing, zone, "weather_2013-05.csv")
    old_format = json.dumps({"files": {"weather_2013-05.csv": {"size": 1}}, "reported": []})

    assert len(evaluate(zone, old_format).run_requests) == 1


def test_a_missing_landing_folder_is_a_skip(tmp_path, zone):
    shutil.rmtree(zone["landing"])
    assert evaluate(zone).skip_message == f"Landing folder {zone['landing']} does not exist yet."


@pytest.mark.parametrize(
    ("content", "complete"),
    [
        (b"", False),
        # Until issue #23 a last line without a line break was incomplete whatever it held; now its
        # record decides: cut mid-record (fewer fields, an open quote, the header alone) it is.
        (b"a,b\n1", False),
        (b'a,b\n1,"2', False),
        (b"a,b", False),
        (b"a,b\n1,2", True),
        (b"a,b\n1,2\n", True),
        (b"a,b\n1,2\n\n \n", True),  # blank lines after the last record
        (gzip.compress(b"a,b\n1,2\n"), True),
        (gzip.compress(b"a,b\n1,2\n")[:-6], False),  # the gzip trailer not written yet
        (gzip.compress(b"a,b\n1"), False),
        (gzip.compress(b"a,b\n1,2"), True),
        (gzip.compress(b"a,b\n") + gzip.compress(b"1,2\n"), True),  # two members
    ],
    # ids of their own: gzip stamps the time into the bytes, and xdist's workers must collect alike
    ids=[
        "empty",
        "cut mid-record",
        "open quote",
        "header alone",
        "whole record without a line break",
        "whole lines",
        "trailing blank lines",
        "gzip whole lines",
        "gzip without trailer",
        "gzip cut mid-record",
        "gzip whole record without a line break",
        "gzip two members",
    ],
)
def test_looks_complete(tmp_path, content, complete):
    path = (
        tmp_path / "flights_2013-01.csv.gz"
        if content[:2] == b"\x1f\x8b"
        else tmp_path / "flights_2013-01.csv"
    )
    path.write_bytes(content)
    assert looks_complete(path, LANDED_TABLES) is complete
