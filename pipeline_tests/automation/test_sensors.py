"""Sensors: which landing files start which loads, and how a failed run becomes an alert.

The landing sensor is evaluated with ``build_sensor_context`` against real folders: the partition
requested, de-duplication by file identity, files still being written, unexpected names and the
cursor. The run-failure sensor is fed a real failed run, and its webhook is a real HTTP server on
127.0.0.1.
"""

import hashlib
import http.server
import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from pipeline.definitions import defs
from pipeline.partitions import monthly_partitions
from pipeline.automation.alerts import AlertNotifier
from pipeline.landing.resources import LandingZone
from pipeline.automation.alerts import run_failure_alert
from pipeline.landing.names import FileKind, classify_landing_file
from pipeline_tests.conftest import definitions_with, make_resources

PARTITION_KEYS = set(monthly_partitions.get_partition_keys())
AN_HOUR_AGO = time.time() - 3600


@pytest.mark.parametrize(
    ("name", "kind", "table", "partition_key"),
    [
        ("flights_2013-03.csv", FileKind.MONTHLY, "flights", "2013-03-01"),
        ("weather_2013-12.csv", FileKind.MONTHLY, "weather", "2013-12-01"),
        ("planes.csv", FileKind.DIMENSION, "planes", None),
        ("flights_2013-03.csv.part", FileKind.PARTIAL, None, None),
        ("flights_2014-01.csv", FileKind.OUT_OF_RANGE, "flights", "2014-01-01"),
        ("flights_2013-3.csv", FileKind.UNEXPECTED, None, None),
        ("Flights_2013-03.csv", FileKind.UNEXPECTED, None, None),
        ("flights_2013-03.csv.bak", FileKind.UNEXPECTED, None, None),
        ("notes.txt", FileKind.UNEXPECTED, None, None),
    ],
)
def test_classify_landing_file(name, kind, table, partition_key):
    file_class = classify_landing_file(name, PARTITION_KEYS)
    assert (file_class.kind, file_class.table, file_class.partition_key) == (kind, table, partition_key)
    if kind in (FileKind.UNEXPECTED, FileKind.OUT_OF_RANGE):
        assert file_class.reason


def test_out_of_range_reason_names_the_partitions():
    reason = classify_landing_file("weather_2012-12.csv", PARTITION_KEYS).reason
    assert reason == "month 2012-12 is outside the partitions 2013-01…2013-12"


def _evaluate(landing_dir: Path, cursor: str | None = None):
    context = dg.build_sensor_context(
        cursor=cursor,
        resources={"landing_zone": LandingZone(path=str(landing_dir))},
        definitions=defs,
    )
    return defs.resolve_sensor_def("landing_sensor").evaluate_tick(context)


def _land(seeded_landing: Path, landing_dir: Path, name: str, settled: bool = True) -> Path:
    """Deliver ``name`` as upstream does (temporary name, then rename); settled = delivered long ago."""
    target = landing_dir / name
    partial = target.with_name(name + ".part")
    shutil.copyfile(seeded_landing / name, partial)
    partial.replace(target)
    if settled:
        os.utime(target, (AN_HOUR_AGO, AN_HOUR_AGO))
    return target


def _identity(path: Path) -> str:
    return f"{path.name}:{path.stat().st_size}:{hashlib.sha256(path.read_bytes()).hexdigest()}"


@pytest.fixture
def empty_landing(tmp_path) -> Path:
    landing_dir = tmp_path / "landing"
    landing_dir.mkdir()
    return landing_dir


def test_new_monthly_file_requests_exactly_its_partition(seeded_landing, empty_landing):
    landed = _land(seeded_landing, empty_landing, "weather_2013-07.csv")

    tick = _evaluate(empty_landing)

    [request] = tick.run_requests
    assert request.partition_key == "2013-07-01"
    assert request.tags["dagster/partition"] == "2013-07-01"
    assert request.asset_selection == [dg.AssetKey(["raw", "weather"])]
    assert request.run_key == _identity(landed)
    assert request.tags["landing/sha256"] == hashlib.sha256(landed.read_bytes()).hexdigest()


def test_dimension_files_load_together_in_one_unpartitioned_run(seeded_landing, empty_landing):
    landed = [_land(seeded_landing, empty_landing, name) for name in ("airlines.csv", "planes.csv")]

    [request] = _evaluate(empty_landing).run_requests

    assert request.partition_key is None
    assert request.asset_selection == [dg.AssetKey(["raw", "airlines"]), dg.AssetKey(["raw", "planes"])]
    assert request.run_key == " + ".join(_identity(path) for path in landed)


def test_dimensions_are_queued_before_the_months_that_need_them(seeded_landing, empty_landing):
    for name in ("flights_2013-01.csv", "airports.csv", "weather_2013-01.csv"):
        _land(seeded_landing, empty_landing, name)

    requests = _evaluate(empty_landing).run_requests

    assert [(r.asset_selection, r.partition_key) for r in requests] == [
        ([dg.AssetKey(["raw", "airports"])], None),
        ([dg.AssetKey(["raw", "flights"])], "2013-01-01"),
        ([dg.AssetKey(["raw", "weather"])], "2013-01-01"),
    ]


def test_the_cursor_remembers_what_was_requested(seeded_landing, empty_landing):
    _land(seeded_landing, empty_landing, "flights_2013-02.csv")
    first = _evaluate(empty_landing)
    assert len(first.run_requests) == 1

    again = _evaluate(empty_landing, first.cursor)
    assert again.run_requests == []
    assert again.skip_message == "No new complete landing files."

    # Without the cursor the sensor would ask again: the cursor is what it remembers by.
    assert [r.run_key for r in _evaluate(empty_landing).run_requests] == [first.run_requests[0].run_key]


def test_same_file_dropped_again_is_not_reloaded(seeded_landing, empty_landing):
    _land(seeded_landing, empty_landing, "flights_2013-02.csv")
    cursor = _evaluate(empty_landing).cursor

    _land(seeded_landing, empty_landing, "flights_2013-02.csv", settled=False)  # new mtime, same bytes
    waiting = _evaluate(empty_landing, cursor)
    settled = _evaluate(empty_landing, waiting.cursor)

    assert waiting.run_requests == [] and settled.run_requests == []
    assert "still being written: flights_2013-02.csv" in waiting.skip_message


def test_corrected_file_requests_a_reload_of_its_month(seeded_landing, empty_landing):
    landed = _land(seeded_landing, empty_landing, "flights_2013-02.csv")
    first = _evaluate(empty_landing)

    lines = landed.read_bytes().splitlines(keepends=True)
    landed.write_bytes(b"".join(lines[:-1]))  # upstream withdraws the last row
    os.utime(landed, (AN_HOUR_AGO, AN_HOUR_AGO + 1))
    [request] = _evaluate(empty_landing, first.cursor).run_requests

    assert request.partition_key == "2013-02-01"
    assert request.run_key == _identity(landed) != first.run_requests[0].run_key


def test_file_still_being_written_is_not_picked_up(seeded_landing, empty_landing):
    source = (seeded_landing / "flights_2013-05.csv").read_bytes()
    partial = empty_landing / "flights_2013-05.csv.part"
    partial.write_bytes(source[: len(source) // 2])

    under_temporary_name = _evaluate(empty_landing)
    assert under_temporary_name.run_requests == []
    assert "still being written: flights_2013-05.csv.part" in under_temporary_name.skip_message

    # An uploader that writes in place: the file grows between evaluations.
    growing = partial.rename(empty_landing / "flights_2013-05.csv")
    seen_growing = _evaluate(empty_landing, under_temporary_name.cursor)
    with open(growing, "ab") as out:
        out.write(source[len(source) // 2 :])
    seen_grown = _evaluate(empty_landing, seen_growing.cursor)
    assert seen_growing.run_requests == [] and seen_grown.run_requests == []

    [request] = _evaluate(empty_landing, seen_grown.cursor).run_requests  # unchanged since last look
    assert request.run_key == _identity(growing)
    assert growing.read_bytes() == source


def test_unexpected_names_are_skipped_with_the_reason_and_left_in_place(seeded_landing, empty_landing):
    (empty_landing / "notes.txt").write_text("ask upstream about March")
    (empty_landing / "flights_2013-3.csv").write_bytes((seeded_landing / "flights_2013-03.csv").read_bytes())
    (empty_landing / "weather_2013-01.csv").mkdir()

    tick = _evaluate(empty_landing)

    assert tick.run_requests == []
    assert "Skipped 3 file(s)" in tick.skip_message
    assert "flights_2013-3.csv: not a landing file name (expected flights_YYYY-MM.csv" in tick.skip_message
    assert "notes.txt: not a landing file name" in tick.skip_message
    assert "weather_2013-01.csv: not a regular file" in tick.skip_message
    assert {path.name for path in empty_landing.iterdir()} == {"notes.txt", "flights_2013-3.csv", "weather_2013-01.csv"}
    assert json.loads(tick.cursor)["reported"] == ["flights_2013-3.csv", "notes.txt", "weather_2013-01.csv"]


def test_missing_landing_folder_is_a_skip_not_an_error(tmp_path):
    tick = _evaluate(tmp_path / "not-yet-created")
    assert tick.run_requests == []
    assert tick.skip_message == f"Landing folder {tmp_path / 'not-yet-created'} does not exist yet."


# ---- run-failure alerts ----


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory, seeded_landing):
    """A real run of load_landed_files that fails: May's flights file is cut mid-row."""
    root = tmp_path_factory.mktemp("failed_run")
    landing_dir = root / "landing"
    landing_dir.mkdir()
    source = (seeded_landing / "flights_2013-05.csv").read_bytes()
    (landing_dir / "flights_2013-05.csv").write_bytes(source[: len(source) // 3])
    job = definitions_with(make_resources(root, landing_dir)).resolve_job_def("load_landed_files")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            instance=instance,
            partition_key="2013-05-01",
            asset_selection=[dg.AssetKey(["raw", "flights"])],
            raise_on_error=False,
        )
        assert not result.success
        yield instance, result


def _alert(failed_run, notifier: AlertNotifier) -> None:
    instance, result = failed_run
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"notifier": notifier},
    ).for_run_failure()
    run_failure_alert(context)


def _records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_failed_run_is_written_to_the_alert_log(failed_run, tmp_path, monkeypatch):
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    log = tmp_path / "alerts" / "alerts.jsonl"

    _alert(failed_run, AlertNotifier(log_path=str(log)))

    [record] = _records(log)
    assert record["kind"] == "run_failure"
    assert record["run_id"] == failed_run[1].run_id
    assert record["job"] == "load_landed_files"
    assert record["partition"] == "2013-05-01"
    [step] = record["failed_steps"]
    assert step["step"] == "raw__flights"
    assert "flights_2013-05.csv" in step["error"]


class _Webhook(http.server.ThreadingHTTPServer):
    """A tiny webhook receiver on 127.0.0.1 that answers every POST with ``status``."""

    def __init__(self, status: int):
        self.status = status
        self.received: list[tuple[str, str, bytes]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((self.path, self.headers["Content-Type"], body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def webhook_server(request):
    server = _Webhook(getattr(request, "param", 200))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(server.server_address, timeout=1)


def test_webhook_from_the_environment_receives_the_alert(failed_run, tmp_path, webhook_server, monkeypatch):
    host, port = webhook_server.server_address
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://{host}:{port}/hooks/flights?token=s3cret")
    log = tmp_path / "alerts.jsonl"

    _alert(failed_run, AlertNotifier(log_path=str(log)))

    [(path, content_type, body)] = webhook_server.received
    assert path == "/hooks/flights?token=s3cret"
    assert content_type == "application/json"
    posted = json.loads(body)
    [logged] = _records(log)
    assert posted == {key: value for key, value in logged.items() if key != "logged_at"}
    assert posted["run_id"] == failed_run[1].run_id


@pytest.mark.parametrize("webhook_server", [503], indirect=True)
def test_webhook_that_fails_keeps_the_alert_in_the_log(failed_run, tmp_path, webhook_server, monkeypatch):
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    host, port = webhook_server.server_address
    log = tmp_path / "alerts.jsonl"
    notifier = AlertNotifier(
        log_path=str(log), webhook_url=f"http://{host}:{port}/hooks?token=s3cret", webhook_attempts=2
    )

    _alert(failed_run, notifier)

    assert len(webhook_server.received) == 2
    alert, failure = _records(log)
    assert alert["run_id"] == failed_run[1].run_id
    assert failure["kind"] == "webhook_delivery_failed"
    assert failure["error"] == "webhook at 127.0.0.1 failed after 2 attempt(s): 503"
    assert "s3cret" not in log.read_text()
