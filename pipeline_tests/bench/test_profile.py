"""The profile: the landing's own code records its phases when PIPELINE_PROFILE is set, and
``bench.profile`` turns a run's records into its tables. Timings are never asserted."""

from __future__ import annotations

from datetime import date

from bench import profile
from pipeline.defs.raw.tables import FLIGHTS
from pipeline.landing import timing
from pipeline.landing.ingest import inspect_landed_file


def test_checking_a_file_records_its_phases_only_when_profiling(tmp_path, seeded_landing, monkeypatch):
    records = tmp_path / "profile.jsonl"
    january = seeded_landing / "flights_2013-01.csv"
    monkeypatch.delenv(timing.PROFILE_ENV, raising=False)
    inspect_landed_file(january, FLIGHTS, date(2013, 1, 1))
    assert not records.exists()

    monkeypatch.setenv(timing.PROFILE_ENV, str(records))
    with timing.labelled(table="raw.flights", file=january.name):
        assert inspect_landed_file(january, FLIGHTS, date(2013, 1, 1)).problems == []
    phases = profile.read_phases(records)
    assert [record["phase"] for record in phases] == [
        "framing scan",
        "parse",
        "blank lines",
        "value and key checks",
        "key values",
    ]
    for record in phases:
        assert record["table"] == "raw.flights" and record["file"] == january.name
        assert record["wall_seconds"] >= 0 and record["cpu_seconds"] >= 0


def _record(phase: str, file: str, wall: float, cpu: float) -> dict:
    return {"phase": phase, "table": "raw.flights", "file": file, "wall_seconds": wall, "cpu_seconds": cpu}


def test_the_profile_tables_show_steps_overheads_phases_and_files():
    details = {
        "seconds_by_step": {"raw__flights": 3.0, "staging__flights": 1.0},
        "cpu_seconds_by_step": {"raw__flights": 5.0, "staging__flights": 1.0},
        "run": {"started": 102.0, "ended": 108.0, "cpu_before": 1.5, "cpu_after": 9.0},
    }
    phases = [
        _record("parse", "flights_2013-01.csv", 1.0, 2.0),
        _record("value checks", "flights_2013-01.csv", 0.5, 1.0),
        _record("parse", "flights_2013-02.csv", 1.0, 1.0),
        {"phase": "what changed", "table": "raw.flights", "wall_seconds": 0.25, "cpu_seconds": 0.25},
    ]
    run = profile.profile_of(details, phases, started=100.0, wall=10.0, cpu=11.0)
    lines = profile.profile_tables([run])
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in lines if line.startswith("| ")}

    assert rows["raw.flights"] == "| raw.flights | 3.00 | 5.00 | 1.67 | 30% |"
    assert rows["before the run: process start, imports, code location, instance"].startswith("| before")
    assert "| 2.00 | 1.50 |" in rows["before the run: process start, imports, code location, instance"]
    # The run lasted 6 s and used 7.5 s of CPU; its steps 4 s and 6 s.
    assert "| 2.00 | 1.50 | 0.75 |" in rows["the run between its steps (Dagster: plan, events, handing over)"]
    assert "| 2.00 | 2.00 |" in rows["after the run: step records read, teardown, exit"]
    assert rows["parse"] == "| parse | 2.00 / 3.00 |"
    assert rows["what changed"] == "| what changed | 0.25 / 0.25 |"
    assert rows["step (Dagster's timing)"] == "| step (Dagster's timing) | 3.00 / 5.00 |"
    assert rows["flights_2013-01.csv"] == "| flights_2013-01.csv | 1.00 | 0.50 | 1.50 | 3.00 | 2.00 |"
    assert rows["flights_2013-02.csv"] == "| flights_2013-02.csv | 1.00 | 0.00 | 1.00 | 1.00 | 1.00 |"
