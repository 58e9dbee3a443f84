"""Tricky deliveries (issue #23), each from the landing folder through the landing sensor to the rows
a real load stores in a real DuckDB file: a month split over two files, compressed bytes under a
plain name, a correction in the other compression, a month in look-alike digits, a last line
without a line break, and blank lines at the end of a file.

The sensor runs with ``evaluate_tick`` on a real instance and folder (test_sensors.py's helpers);
the run it requests is executed in process with the code location's resources.
"""

import bz2
import gzip
import io
import os
import time
import zipfile

import dagster as dg
import duckdb
import pytest

from pipeline.landing.archive import archived_versions
from pipeline_tests.automation import test_sensors as sensors
from pipeline_tests.support import folder_asset, make_resources, step_failure_message

zone = sensors.zone  # the fixture: an empty landing folder, a real instance, an alert log
evaluate, land, alerts = sensors.evaluate, sensors.land, sensors.alerts


def run_requested(zone, request: dg.RunRequest, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    """The raw load of the run the sensor requested, on the zone's instance and folders."""
    assert request.partition_key is not None
    return dg.materialize(
        [folder_asset("raw", "flights")],
        partition_key=request.partition_key,
        instance=zone["instance"],
        resources=make_resources(zone["root"], zone["landing"]),
        raise_on_error=raise_on_error,
    )


def stored(zone, month: int) -> list[tuple]:
    """Rows of raw.flights for ``month`` and the files they came from."""
    with duckdb.connect(str(zone["root"] / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(
            "select count(*), list(distinct _source_file) from raw.flights where month = ?", [month]
        ).fetchall()


def source_files(result: dg.ExecuteInProcessResult) -> list[dict]:
    [materialization] = result.asset_materializations_for_node("raw__flights")
    return materialization.metadata["source_files"].data


def observed(tick, key: str) -> dict[str, str]:
    [observation] = tick.asset_events
    return {entry["file"]: entry["reason"] for entry in observation.metadata[key].data}


def test_a_month_split_over_two_files_is_held_until_it_is_one(seeded_landing, zone):
    """March re-sent as its first 25,000 rows and a '(part 2)' with the other 3,834: nothing loads."""
    lines = (seeded_landing / "flights_2013-03.csv").read_bytes().splitlines(keepends=True)
    assert len(lines) == 1 + 28_834
    first = land(seeded_landing, zone, "flights_2013-03.csv", b"".join(lines[: 1 + 25_000]))
    second = land(seeded_landing, zone, "flights_2013-03 (part 2).csv", b"".join([lines[0], *lines[25_001:]]))

    tick = evaluate(zone)

    assert tick.run_requests == []
    [alert] = alerts(zone)
    assert (alert["kind"], alert["file"]) == ("unrecognised_landing_file", second.name)
    assert (
        "possible second part of flights 2013-03: flights_2013-03.csv (or .csv.gz) is held" in alert["reason"]
    )
    held = observed(tick, "held_files")
    assert list(held) == [first.name]
    assert f"possible second part of flights 2013-03: {second.name}" in held[first.name]
    assert f"Held: {first.name}: held, not loaded, while {second.name} is here" in tick.skip_message
    assert first.exists() and second.exists() and not (zone["root"] / "quarantine").exists()
    assert not (zone["root"] / "warehouse.duckdb").exists(), "nothing was loaded"

    # The operator joins the parts under the month's name: the whole month loads.
    first.write_bytes(b"".join(lines))
    os.utime(first, (sensors.an_hour_ago(), sensors.an_hour_ago()))
    second.unlink()
    [request] = evaluate(zone, tick.cursor).run_requests
    assert request.tags["landing/file"] == first.name
    assert run_requested(zone, request).success
    assert stored(zone, 3) == [(28_834, [first.name])]


@pytest.mark.parametrize(
    ("name", "compress", "told"),
    [
        (
            "flights_2013-04.csv",
            gzip.compress,
            "gzip-compressed but named .csv: name it flights_2013-04.csv.gz",
        ),
        ("flights_2013-04.csv", bz2.compress, "bzip2-compressed but named .csv: only gzip is accepted"),
        (
            "flights_2013-04.csv",
            lambda data: _zipped("flights_2013-04.csv", data),
            "zip-compressed but named .csv: only gzip is accepted",
        ),
        (
            "flights_2013-04.csv.gz",
            lambda data: data,
            "not gzip-compressed (they are plain): name it flights_2013-04.csv, or gzip it",
        ),
    ],
    ids=["gzip", "bzip2", "zip", "plain under .gz"],
)
def test_bytes_compressed_otherwise_than_named_are_told_at_once_and_left_in_place(
    seeded_landing, zone, name, compress, told
):
    delivered = compress((seeded_landing / "flights_2013-04.csv").read_bytes())
    landed = land(seeded_landing, zone, name, delivered, settled=False)  # just written

    tick = evaluate(zone)

    assert tick.run_requests == []
    [alert] = alerts(zone)
    assert (alert["kind"], alert["file"]) == ("mislabelled_landing_file", name)
    assert told in alert["reason"]
    assert told in observed(tick, "unrecognised_files")[name]
    assert "incomplete" not in tick.skip_message and "Still arriving" not in tick.skip_message
    assert landed.read_bytes() == delivered
    assert not (zone["root"] / "quarantine").exists()
    assert evaluate(zone, tick.cursor).asset_events == [] and len(alerts(zone)) == 1  # told once

    if compress is gzip.compress:  # the fix the message names: the month loads
        renamed = landed.rename(landed.with_name(name + ".gz"))
        os.utime(renamed, (sensors.an_hour_ago(), sensors.an_hour_ago()))
        [request] = evaluate(zone, tick.cursor).run_requests
        assert run_requested(zone, request).success
        assert stored(zone, 4) == [(28_330, [name + ".gz"])]


def _zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def test_a_correction_in_the_other_compression_replaces_the_loaded_file(seeded_landing, zone):
    plain = land(seeded_landing, zone, "flights_2013-02.csv")
    [request] = evaluate(zone).run_requests
    assert run_requested(zone, request).success
    assert stored(zone, 2) == [(24_951, [plain.name])]
    loaded_bytes = plain.read_bytes()

    corrected = b"".join(loaded_bytes.splitlines(keepends=True)[:-1])  # upstream withdrew a flight
    compressed = land(seeded_landing, zone, "flights_2013-02.csv.gz", gzip.compress(corrected))
    tick = evaluate(zone)  # no cursor: what is loaded comes from the instance

    [request] = tick.run_requests
    assert (request.partition_key, request.tags["landing/file"]) == ("2013-02-01", compressed.name)
    assert not plain.exists(), "the loaded version left the landing folder ..."
    [kept] = archived_versions(zone["root"] / "archive", plain.name)
    assert kept.path.read_bytes() == loaded_bytes, "... for the archive, byte for byte"
    result = run_requested(zone, request)
    assert result.success, step_failure_message(result)  # no AmbiguousDelivery
    assert stored(zone, 2) == [(24_950, [compressed.name])]
    assert evaluate(zone, tick.cursor).run_requests == []


def test_two_unloaded_files_of_one_month_in_both_compressions_are_still_ambiguous(seeded_landing, zone):
    content = (seeded_landing / "flights_2013-02.csv").read_bytes()
    plain = land(seeded_landing, zone, "flights_2013-02.csv")
    compressed = land(seeded_landing, zone, "flights_2013-02.csv.gz", gzip.compress(content))

    [request] = evaluate(zone).run_requests
    result = run_requested(zone, request, raise_on_error=False)

    assert not result.success
    assert f"Both {plain} and {compressed} have landed" in step_failure_message(result)
    assert plain.exists() and compressed.exists() and not (zone["root"] / "archive" / plain.name).exists()


def test_a_month_in_look_alike_digits_is_told_and_left_in_place(seeded_landing, zone):
    content = (seeded_landing / "flights_2013-06.csv").read_bytes()
    landed = land(seeded_landing, zone, "flights_2013-０６.csv", content)

    tick = evaluate(zone)

    assert tick.run_requests == []
    assert landed.read_bytes() == content and not (zone["root"] / "quarantine").exists()
    [alert] = alerts(zone)
    assert (alert["kind"], alert["file"]) == ("unrecognised_landing_file", landed.name)
    assert "the month '2013-０６' has the look-alike digit(s) '０' (FULLWIDTH DIGIT ZERO)" in alert["reason"]
    assert "did you mean flights_2013-06.csv?" in alert["reason"]
    assert alert["reason"] == observed(tick, "unrecognised_files")[landed.name]


def test_a_last_line_without_a_line_break_loads_once_settled_and_a_cut_record_is_waited_for(
    seeded_landing, zone
):
    content = (seeded_landing / "flights_2013-05.csv").read_bytes()
    assert content.endswith(b"\n")
    whole = land(seeded_landing, zone, "flights_2013-05.csv", content.rstrip(b"\n"), settled=False)
    june = (seeded_landing / "flights_2013-06.csv").read_bytes()
    weather = (seeded_landing / "weather_2013-06.csv").read_bytes()
    cut = {
        "flights_2013-06.csv": june[:1000],  # mid-record: fewer fields than the header
        "weather_2013-06.csv": weather[:-6],  # inside the last field: every field, time_hour cut short
    }
    for name, data in cut.items():
        path = land(seeded_landing, zone, name, data)
        os.utime(path, (sensors.an_hour_ago() + 60, sensors.an_hour_ago() + 60))  # paused 59 minutes

    settling = evaluate(zone)
    assert settling.run_requests == []
    assert "Still arriving: flights_2013-05.csv." in settling.skip_message
    assert f"Waiting for 2 incomplete file(s): {', '.join(cut)}." in settling.skip_message

    os.utime(whole, (time.time() - 3, time.time() - 3))  # unchanged for the settle interval
    [request] = evaluate(zone, settling.cursor).run_requests
    assert request.tags["landing/file"] == whole.name
    result = run_requested(zone, request)
    assert result.success
    assert stored(zone, 5) == [(28_796, [whole.name])]
    [loaded] = source_files(result)
    assert loaded["noted"] == ["line 28797, the last, has no line break; its record is whole (19 fields)"]
    for name, data in cut.items():
        assert (zone["landing"] / name).read_bytes() == data, "a cut file is still waited for, untouched"
    assert not (zone["root"] / "quarantine").exists()


def test_blank_lines_at_the_end_are_accepted_and_noted(seeded_landing, zone):
    content = (seeded_landing / "flights_2013-05.csv").read_bytes() + b"\n \t\n\n"
    landed = land(seeded_landing, zone, "flights_2013-05.csv", content)

    [request] = evaluate(zone).run_requests
    result = run_requested(zone, request)

    assert result.success
    assert stored(zone, 5) == [(28_796, [landed.name])]
    [loaded] = source_files(result)
    assert loaded["noted"] == ["3 blank line(s) after the last record (lines 28798–28800) ignored"]
