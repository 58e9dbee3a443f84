"""The benchmark's parts: a deterministic generator, measurements of a whole process tree, a floor
that runs every SQL file of the pipeline, and the benchmark command itself on a tiny size.

Timings are never asserted here; bench/RESULTS.md holds them.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from bench import floor, generate
from bench.run import bracketed
from pipeline import constants
from pipeline.landing import ingest

REPO_ROOT = Path(__file__).resolve().parents[2]
MiB = 1 << 20
ALL_BUT_FLIGHT_NUMBER = (
    "year, month, day, dep_time, sched_dep_time, dep_delay, arr_time, sched_arr_time, arr_delay, "
    "carrier, tailnum, origin, dest, air_time, distance, hour, minute, time_hour"
)


def _digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def _flights(landing_dir: Path) -> duckdb.DuckDBPyRelation:
    """The landed flights files, parsed once into an in-memory table."""
    conn = duckdb.connect()
    conn.execute(
        f"create table flights as from read_csv('{landing_dir}/flights_*.csv', header = true, nullstr = 'NA')"
    )
    return conn.table("flights")


@pytest.mark.parametrize(
    ("total", "real", "expected"),
    [
        (10, {"a": 5, "b": 5}, {"a": 5, "b": 5}),
        (7, {"a": 1, "b": 2}, {"a": 2, "b": 5}),  # 2.33 and 4.67: the larger remainder gets the row
        (3, {"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 1, "c": 1}),
        (4, {"a": 1, "b": 1, "c": 1}, {"a": 2, "b": 1, "c": 1}),  # ties go to the earlier month
    ],
)
def test_rows_are_allocated_to_months_in_proportion_and_add_up(total, real, expected):
    assert generate.allocate_rows(total, real) == expected


def test_fewer_rows_than_months_is_refused():
    with pytest.raises(ValueError, match="at least one per month"):
        generate.allocate_rows(11, {f"2013-{month:02d}": 100 for month in range(1, 13)})


@pytest.mark.integration  # lands the whole year
def test_the_real_row_count_lands_the_source_files_byte_for_byte(tmp_path, seeded_landing):
    generated = generate.generate(tmp_path / "landing", generate.REAL_FLIGHT_ROWS)
    assert generated.flight_rows == 336_776
    assert generated.flight_rows_by_month["2013-01"] == 27_004
    assert generated.flight_rows_by_month["2013-12"] == 28_135
    assert _digests(tmp_path / "landing") == _digests(seeded_landing)


@pytest.mark.integration  # tens of seconds: out of the fast loop
def test_the_same_seed_gives_the_same_files_and_another_seed_other_rows(tmp_path, seeded_landing):
    first = generate.generate(tmp_path / "first", 20_000, seed=7)
    again = generate.generate(tmp_path / "again", 20_000, seed=7)
    other = generate.generate(tmp_path / "other", 20_000, seed=8)

    assert _digests(tmp_path / "first") == _digests(tmp_path / "again")
    assert first.flight_rows_by_month == again.flight_rows_by_month == other.flight_rows_by_month
    assert sum(first.flight_rows_by_month.values()) == 20_000
    differing = {
        name
        for name, digest in _digests(tmp_path / "first").items()
        if _digests(tmp_path / "other")[name] != digest
    }
    assert differing == {f"flights_2013-{month:02d}.csv" for month in range(1, 13)}
    # Weather and the dimensions are landed as the source has them.
    seeded = _digests(seeded_landing)
    assert {name: seeded[name] for name in seeded if not name.startswith("flights_")} == {
        name: digest
        for name, digest in _digests(tmp_path / "first").items()
        if not name.startswith("flights_")
    }


@pytest.mark.integration  # generates and loads a scaled year
def test_scaled_flights_are_real_rows_with_distinct_flight_identities(tmp_path, seeded_landing):
    rows = generate.REAL_FLIGHT_ROWS + 12_345
    generated = generate.generate(tmp_path / "landing", rows)
    scaled = _flights(tmp_path / "landing")
    real = _flights(seeded_landing)

    assert scaled.count("*").fetchall()[0][0] == rows == generated.flight_rows
    identity = "year, month, day, carrier, flight, origin, sched_dep_time"
    assert scaled.aggregate(f"count(distinct ({identity}))").fetchall()[0][0] == rows
    assert scaled.aggregate("min(flight), max(flight)").fetchall()[0] >= (1, 1)
    assert scaled.aggregate("max(flight)").fetchall()[0][0] <= 9999
    # Every real row appears once or twice (a seeded sample), only its flight number changed.
    copies_by_row = scaled.query(
        "scaled", f"select count(*) as copies from scaled group by {ALL_BUT_FLIGHT_NUMBER}"
    )
    histogram = dict(copies_by_row.aggregate("copies, count(*)", "copies").fetchall())
    real_rows_without_flight = real.aggregate(f"count(distinct ({ALL_BUT_FLIGHT_NUMBER}))").fetchall()[0][0]
    assert sum(histogram.values()) == real_rows_without_flight
    assert sum(copies * count for copies, count in histogram.items()) == rows
    assert histogram == {1: generate.REAL_FLIGHT_ROWS - 12_345, 2: 12_345}
    # The month shares stay the real ones.
    real_by_month = dict(real.aggregate("month, count(*)", "month").fetchall())
    scaled_by_month = dict(scaled.aggregate("month, count(*)", "month").fetchall())
    for month, count in real_by_month.items():
        assert scaled_by_month[month] == pytest.approx(count * rows / generate.REAL_FLIGHT_ROWS, abs=1)


def test_the_floor_runs_every_sql_file_that_builds_a_table():
    sql_files = {
        (layer, path.relative_to(constants.DEFS_DIR / layer).with_suffix("").as_posix())
        for layer in ("raw", "staging", "marts")
        for path in (constants.DEFS_DIR / layer).glob("*.sql")
    } | {
        (path.parent.parent.name, f"{path.stem}/{path.stem}")
        for path in constants.DEFS_DIR.glob("*/*/*.sql")
        if path.stem == path.parent.name
    }
    assert {(step.layer, step.sql or step.name) for step in floor.STEPS} == sql_files
    # Landed files are parsed and checked by the ingest's own function, whatever its statements are.
    assert floor.ingest.inspect_landed_file is ingest.inspect_landed_file


@pytest.mark.parametrize(
    ("variants", "order"),
    [
        (["read_limit", "dagster_run"], ["read_limit", "dagster_run", "read_limit"]),
        (["floor", "read_limit", "pandas"], ["floor", "read_limit", "pandas", "read_limit"]),
        (["read_limit"], ["read_limit"]),
        (["floor", "dagster_run"], ["floor", "dagster_run"]),
    ],
)
def test_the_read_limit_brackets_the_pipeline_variants(variants, order):
    assert [variant for variant, _ in bracketed(variants)] == order


MEASURED_TREE = """
import subprocess, sys, time
held = bytearray(120 * 1024 * 1024)  # touched: resident
child = subprocess.Popen([sys.executable, "-c",
    "import time; held = bytearray(200 * 1024 * 1024); time.sleep(1.0)"])
# A grandchild that outlives its parent (as a forkserver does) and burns CPU after the parent exits.
subprocess.Popen([sys.executable, "-c",
    "import sys, time; time.sleep(3); open(sys.argv[1], 'w').write(repr(time.time())); "
    "end = time.process_time() + 0.6\\nwhile time.process_time() < end: pass", sys.argv[1]])
time.sleep(0.6)
child.wait()
"""


@pytest.mark.integration  # starts a tree of processes
def test_measurement_covers_every_process_of_the_tree_and_orphans(tmp_path):
    orphan_started = tmp_path / "orphan_started"
    script = (
        "import json, sys, time\n"
        "from bench.measure import measure\n"
        "started = time.time()\n"
        f"m = measure([sys.executable, '-c', {MEASURED_TREE!r}, {str(orphan_started)!r}])\n"
        "print(json.dumps({'returncode': m.returncode, 'tree': m.peak_tree_rss_bytes, "
        "'single': m.peak_single_rss_bytes, 'pss': m.peak_tree_pss_bytes, 'cpu': m.cpu_seconds, "
        "'processes': m.max_processes, 'ended': started + m.wall_seconds}))\n"
    )
    # In a process of its own: measuring makes the caller a child subreaper.
    output = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    measured = json.loads(output.stdout.strip().splitlines()[-1])
    assert measured["returncode"] == 0
    assert measured["processes"] >= 3
    assert measured["tree"] >= 320 * MiB  # parent and child held 120 + 200 MiB at once
    assert measured["pss"] >= 300 * MiB
    assert 200 * MiB <= measured["single"] < measured["tree"]
    assert measured["cpu"] >= 0.6  # the orphan's busy loop is counted ...
    assert measured["ended"] < float(orphan_started.read_text())  # ... but not in the wall time


@pytest.mark.integration  # tens of seconds: out of the fast loop
def test_the_benchmark_command_runs_every_variant_on_the_same_data(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--rows",
            "20000",
            "--variant",
            "floor",
            "--variant",
            "read_limit",
            "--variant",
            "dagster_run",
            "--variant",
            "pandas",
            "--work-dir",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    [saved] = (tmp_path / "results").glob("*.json")
    report = json.loads(saved.read_text())
    [size] = report["sizes"]
    assert size["rows"] == 20_000
    runs = {run["variant"]: run for run in size["runs"]}
    assert set(runs) == {"floor", "read_limit", "dagster_run", "pandas"}
    for variant, run in runs.items():
        assert run["matches_floor"] is True, (variant, run["differences"])
        assert run["measurement"]["wall_seconds"] > 0 and run["measurement"]["peak_tree_rss_bytes"] > 0
    # What every variant built (and matched): the scaled flights and the real weather.
    floor_rows = runs["floor"]["row_counts"]
    assert floor_rows["raw.flights"] == floor_rows["staging.flights"] == 20_000
    assert floor_rows["raw.weather"] == floor_rows["staging.weather"] == 26_115
    assert floor_rows["staging.airlines"] == 16
    # The read limit reads every landed file into its raw table once, and builds nothing else.
    raw_rows = {table: rows for table, rows in floor_rows.items() if table.startswith("raw.")}
    assert runs["read_limit"]["row_counts"] == raw_rows
    assert set(runs["read_limit"]["details"]["seconds_by_table"]) == set(raw_rows)
    rows_of_table = {
        line.split(" | ")[0]: line for line in result.stdout.splitlines() if line.startswith("| ")
    }
    assert "× read limit wall" in rows_of_table["| variant"]
    assert "| yes |" in rows_of_table["| floor"]
    assert "| 1.00 | 1.00 | yes (raw) |" in rows_of_table["| read_limit"]
    assert [run["bracket"] for run in size["runs"] if run["variant"] == "read_limit"] == ["before", "after"]
    assert "The read limit ran before the pipeline variants" in result.stdout
    assert "| staging.flights |" in result.stdout  # seconds per step
    assert not list((tmp_path / "rows_20000" / "runs").glob("*/warehouse.duckdb"))


@pytest.mark.integration  # a real run: out of the fast loop
def test_the_profile_command_saves_each_steps_and_each_files_figures(tmp_path):
    command = [sys.executable, "-m", "bench.profile", "--rows", "20000", "--work-dir", str(tmp_path)]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    [saved] = (tmp_path / "results").glob("profile_*.json")
    [run] = json.loads(saved.read_text())
    assert run["details"]["seconds_by_step"]["raw__flights"] > 0
    files = {phase["file"] for phase in run["phases"] if phase["table"] == "raw.flights" and "file" in phase}
    assert files == {f"flights_2013-{month:02d}.csv" for month in range(1, 13)}
    assert "| raw.flights |" in result.stdout
