"""Quarantine: rejected files are moved, never deleted or overwritten, each beside its note; the
landing sensor quarantines files for months that no partition holds."""

import hashlib
import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest

from pipeline.automation.alerts import AlertNotifier
from pipeline.definitions import defs
from pipeline.landing.quarantine import NOTE_SUFFIX, Problem, quarantine
from pipeline.landing.resources import LandingZone
from pipeline_tests.support import read_note


def test_a_file_moves_beside_a_note_of_the_reason(tmp_path):
    source = tmp_path / "landing" / "weather_2013-03.csv"
    source.parent.mkdir()
    source.write_bytes(b"origin,year\nEWR,twenty\n")

    moved = quarantine(
        source,
        tmp_path / "quarantine",
        reason="line 2, column year: not a number",
        problems=[Problem("not a number", line=2, column="year")],
        run_id="run-1",
    )

    assert not source.exists()
    assert moved.path.read_bytes() == b"origin,year\nEWR,twenty\n"
    assert moved.path.parent == moved.note_path.parent == tmp_path / "quarantine"
    assert moved.note_path.name == moved.path.name + NOTE_SUFFIX
    note = read_note(moved.note_path)
    assert note["reason"] == "line 2, column year: not a number"
    assert note["problems"] == [{"message": "not a number", "line": 2, "column": "year"}]
    assert note["run_id"] == "run-1"
    assert note["original_path"] == str(source)
    assert note["sha256"] == hashlib.sha256(b"origin,year\nEWR,twenty\n").hexdigest()


def test_the_same_name_rejected_twice_keeps_both_versions(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    kept = []
    for content in (b"first\n", b"second\n"):
        (landing / "flights_2013-01.csv").write_bytes(content)
        kept.append(quarantine(landing / "flights_2013-01.csv", tmp_path / "q", reason="bad"))

    assert kept[0].path != kept[1].path
    assert [entry.path.read_bytes() for entry in kept] == [b"first\n", b"second\n"]
    assert len(list((tmp_path / "q").glob(f"*{NOTE_SUFFIX}"))) == 2


def test_a_symlink_is_moved_as_a_link_and_its_target_left_alone(tmp_path):
    target = tmp_path / "secret.txt"
    target.write_text("not for the warehouse\n")
    link = tmp_path / "landing_link.csv"
    link.symlink_to(target)

    moved = quarantine(link, tmp_path / "q", reason="symbolic link refused")

    assert moved.path.is_symlink() and os.readlink(moved.path) == str(target)
    assert target.read_text() == "not for the warehouse\n"
    assert read_note(moved.note_path)["symlink_target"] == str(target)


SHARED_MEMORY = Path("/dev/shm")


@pytest.mark.skipif(
    not SHARED_MEMORY.is_dir() or SHARED_MEMORY.stat().st_dev == Path("/tmp").stat().st_dev,
    reason="needs a second file system to move across",
)
def test_a_file_moves_across_file_systems(tmp_path):
    source = tmp_path / "airlines.csv"
    source.write_bytes(b"carrier,name\n")
    quarantine_root = SHARED_MEMORY / f"quarantine-{os.getpid()}-{tmp_path.name}"
    try:
        moved = quarantine(source, quarantine_root, reason="bad")
        assert not source.exists()
        assert moved.path.read_bytes() == b"carrier,name\n"
        assert read_note(moved.note_path)["reason"] == "bad"
    finally:
        shutil.rmtree(quarantine_root, ignore_errors=True)


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def test_the_landing_sensor_quarantines_a_month_no_partition_holds(tmp_path, seeded_landing, instance):
    landing_dir = tmp_path / "landing"
    landing_dir.mkdir()
    shutil.copy(seeded_landing / "flights_2013-01.csv", landing_dir / "flights_2013-01.csv")
    settled = landing_dir / "flights_2014-03.csv"
    settled.write_bytes((seeded_landing / "flights_2013-03.csv").read_bytes())
    an_hour_ago = time.time() - 3600
    os.utime(settled, (an_hour_ago, an_hour_ago))
    os.utime(landing_dir / "flights_2013-01.csv", (an_hour_ago, an_hour_ago))
    fresh = landing_dir / "weather_2012-12.csv"
    fresh.write_bytes(b"origin,year\n")  # just written: may still be growing
    landing_zone = LandingZone(path=str(landing_dir), quarantine_path=str(tmp_path / "quarantine"))
    resources = {
        "landing_zone": landing_zone,
        "notifier": AlertNotifier(log_path=str(tmp_path / "alerts.jsonl")),
    }

    first = defs.resolve_sensor_def("landing_sensor")(
        dg.build_sensor_context(resources=resources, instance=instance, definitions=defs)
    )

    assert [request.partition_key for request in first.run_requests] == ["2013-01-01"]
    assert not settled.exists() and fresh.exists()
    [note_path] = (tmp_path / "quarantine").glob("*_flights_2014-03.csv.reason.json")
    note = read_note(note_path)
    assert "month 2014-03 is outside the partitions 2013-01…2013-12" in note["reason"]
    assert note["original_path"] == str(settled)
    assert (
        note_path.with_name(note_path.name.removesuffix(NOTE_SUFFIX)).read_bytes()
        == (seeded_landing / "flights_2013-03.csv").read_bytes()
    )

    os.utime(fresh, (an_hour_ago, an_hour_ago))  # it stopped changing: settled since
    second = defs.resolve_sensor_def("landing_sensor")(
        dg.build_sensor_context(resources=resources, cursor=first.cursor, instance=instance, definitions=defs)
    )

    assert second.run_requests == []
    assert not fresh.exists(), "once it stopped changing it is quarantined too"
    assert len(list((tmp_path / "quarantine").glob("*_weather_2012-12.csv"))) == 1
