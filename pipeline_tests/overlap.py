"""Overlapping month runs on a running stack, and what must hold after them (issue #20).

Shared by the stress tests (pipeline_tests/deploy/test_overlapping_runs.py on the DuckDB file,
pipeline_tests/deploy/test_distributed.py on the lake) and ``python -m bench.concurrency``:

- ``round_months`` and ``stagger``: which six months a round re-delivers, and the seconds after the
  round's first launch at which each month's run is launched (0, 2, … 10 shuffled, the same shuffle
  for the same round every time);
- ``redeliver``: the months' flights files again with a few hundred rows fewer, as a correction;
- ``launch_at``: ``monthly_refresh`` runs launched through the webserver's GraphQL at those offsets;
- ``mart_differences``: a mart against its SQL (pipeline/defs/marts/<name>/<name>.sql) run over the
  staging tables as they are now, as sets of rows, doubles compared with a relative tolerance;
- ``flights_differences``: raw and staging flights per month against the landed files' rows,
  counted from the CSVs by DuckDB's reader (not by the pipeline's ingest);
- ``fresh_full_refresh``: a second warehouse built from a copy of the same landed files by the
  ``full_refresh`` job in this process, to compare the marts with at the end;
- ``Tally``: runs tried and failed, with what failed them, for the summary line the tests print.
"""

from __future__ import annotations

import math
import random
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.landing import landed_tables
from pipeline.warehouse.connection import read_sql
from pipeline_tests import lake

MARTS = ("carrier_monthly_performance", "route_performance", "weather_impact", "fleet_performance")
MONTHS = tuple(f"2013-{month:02d}-01" for month in range(1, 13))
STAGGER_SECONDS = (0, 2, 4, 6, 8, 10)
# A few hundred rows fewer per re-delivery: far inside the volume guard's allowed shrink.
DROPPED_ROWS = 300
# Doubles computed by a different plan (another run's aggregation order) differ in the last bits.
RELATIVE_TOLERANCE = 1e-9
DOUBLE_TYPES = {"DOUBLE", "FLOAT", "REAL"}

RUN_FAILURES = """
query Failures($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection {
      events {
        __typename
        ... on ExecutionStepFailureEvent { stepKey error { message } }
        ... on AssetCheckEvaluationEvent {
          evaluation { checkName success severity assetKey { path } description }
        }
      }
    }
  }
}
"""


def round_months(number: int) -> list[str]:
    """The six months round ``number`` (from 1) re-delivers: Jan–Jun, Jul–Dec, odd, even, again."""
    patterns = (MONTHS[:6], MONTHS[6:], MONTHS[0::2], MONTHS[1::2])
    return list(patterns[(number - 1) % len(patterns)])


def stagger(number: int, offsets: Sequence[float] = STAGGER_SECONDS) -> list[float]:
    """Launch offsets for round ``number``, one per month in order: ``offsets`` shuffled by a
    generator seeded with the round, so a round interleaves the same way on every machine."""
    shuffled = list(offsets)
    random.Random(number).shuffle(shuffled)
    return shuffled


def redeliver(landing_dir: Path, keys: Sequence[str], dropped_rows: int = DROPPED_ROWS) -> dict[str, int]:
    """Each month's flights file delivered again without its last ``dropped_rows`` rows; the rows left."""
    return {
        key: lake.redeliver_smaller(
            landing_dir / landed_tables.monthly_file_name("flights", key), dropped_rows
        )
        for key in keys
    }


def launch_at(
    handle, keys: Sequence[str], offsets: Sequence[float], tags: Mapping[str, str] | None = None
) -> list[str]:
    """``monthly_refresh`` for each of ``keys``, launched ``offsets`` seconds (same order) after the
    first launch; the run ids in the order of ``keys``. Sleeps between launches: nothing is timed."""
    started = time.monotonic()
    run_ids = {}
    for offset, key in sorted(zip(offsets, keys, strict=True)):
        time.sleep(max(0.0, started + offset - time.monotonic()))
        run_ids[key] = handle.launch_run("monthly_refresh", tags={"dagster/partition": key, **(tags or {})})
    return [run_ids[key] for key in keys]


def failure_reasons(handle, run_id: str) -> list[str]:
    """What failed a run: its failed blocking (ERROR) checks, with their description, and failed steps."""
    events = handle.graphql(RUN_FAILURES, {"runId": run_id})["logsForRun"].get("events", [])
    reasons = []
    for event in events:
        if event["__typename"] == "AssetCheckEvaluationEvent":
            evaluation = event["evaluation"]
            if evaluation["success"] or evaluation["severity"] != "ERROR":
                continue
            key = "/".join(evaluation["assetKey"]["path"])
            reasons.append(f"{key}: {evaluation['checkName']} ({(evaluation['description'] or '')[:200]})")
        elif event["__typename"] == "ExecutionStepFailureEvent":
            message = (event["error"] or {}).get("message", "").strip().splitlines()
            reasons.append(f"step {event['stepKey']}: {message[0][:200] if message else ''}")
    return reasons


@dataclass
class Tally:
    """Overlapping runs tried and failed on one backend."""

    backend: str
    tried: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, handle, runs: Sequence[Mapping]) -> list[Mapping]:
        """Count ``runs`` (finished, as the harness lists them); returns the failed ones."""
        self.tried += len(runs)
        failed = [run for run in runs if run["status"] != "SUCCESS"]
        for run in failed:
            partition = run["tags"].get("dagster/partition", "?")
            reasons = "; ".join(failure_reasons(handle, run["runId"])) or "no failed step or check recorded"
            self.failures.append(f"{run['runId']} ({partition}, {run['status']}): {reasons}")
        return failed

    def summary(self) -> str:
        return f"{self.backend}: {self.tried} overlapping runs tried, {len(self.failures)} failed"


# --- what must hold after a round ------------------------------------------------------------


def landed_flights(landing_dir: Path) -> dict[int, int]:
    """Rows of each landed flights file by month number, counted from the CSV by DuckDB."""
    return {
        int(key[5:7]): lake.csv_rows(landing_dir / landed_tables.monthly_file_name("flights", key))
        for key in MONTHS
    }


def flights_differences(conn: duckdb.DuckDBPyConnection, landing_dir: Path) -> dict[str, dict]:
    """Per table, the months whose rows differ from the landed file: ``{month: (stored, file)}``."""
    expected = landed_flights(landing_dir)
    found = {}
    for table in ("raw.flights", "staging.flights"):
        stored = dict(conn.execute(f"select month, count(*) from {table} group by all").fetchall())
        wrong = {
            month: (stored.get(month), rows) for month, rows in expected.items() if stored.get(month) != rows
        }
        if wrong or set(stored) - set(expected):
            found[table] = {
                **wrong,
                **{month: (stored[month], None) for month in set(stored) - set(expected)},
            }
    return found


@dataclass(frozen=True)
class Rows:
    """A table's rows over some columns; ``doubles`` flags the columns compared with a tolerance."""

    columns: tuple[str, ...]
    doubles: tuple[bool, ...]
    rows: tuple[tuple, ...]


def stored_mart(conn: duckdb.DuckDBPyConnection, name: str) -> Rows:
    """``marts.<name>`` over the columns its SQL computes (not the IO manager's own ``_`` columns)."""
    types, columns = _stored_types(conn, name), _computed_columns(conn, name)
    missing = [column for column in columns if column not in types]
    assert not missing, f"marts.{name} lacks the columns {missing} its SQL computes"
    return _rows(conn, f"select * from marts.{name}", columns, types)


def computed_mart(conn: duckdb.DuckDBPyConnection, name: str) -> Rows:
    """The mart's SQL run now over staging, each column cast to the stored mart's type."""
    return _rows(conn, _mart_query(name), _computed_columns(conn, name), _stored_types(conn, name))


def mart_differences(conn: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """How ``marts.<name>`` differs from its SQL over current staging (None: the same rows)."""
    return rows_differences(stored_mart(conn, name), computed_mart(conn, name))


def marts_contents(conn: duckdb.DuckDBPyConnection) -> dict[str, Rows]:
    return {name: stored_mart(conn, name) for name in MARTS}


def rows_differences(found: Rows, expected: Rows, shown: int = 3) -> str | None:
    """None if both hold the same rows (doubles within RELATIVE_TOLERANCE); else what differs."""
    if found.columns != expected.columns:
        return f"columns {found.columns} vs {expected.columns}"
    ours, theirs = _sorted(found), _sorted(expected)
    if len(ours) != len(theirs):
        return f"{len(ours)} rows vs {len(theirs)} expected"
    wrong = [(a, b) for a, b in zip(ours, theirs, strict=True) if not _same_row(a, b, found.doubles)]
    if not wrong:
        return None
    examples = "; ".join(f"{a} vs {b}" for a, b in wrong[:shown])
    return f"{len(wrong)} of {len(ours)} rows differ, e.g. {examples}"


def _mart_query(name: str) -> str:
    return read_sql("marts", f"{name}/{name}").strip().rstrip(";")


def _stored_types(conn: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    stored = conn.sql(f"select * from marts.{name}")
    return dict(zip(stored.columns, map(str, stored.types), strict=True))


def _computed_columns(conn: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    return list(conn.sql(_mart_query(name)).columns)


def _rows(conn, query: str, columns: Sequence[str], types: Mapping[str, str]) -> Rows:
    casts = ", ".join(f'"{column}"::{types[column]} as "{column}"' for column in columns)
    rows = conn.execute(f"select {casts} from ({query})").fetchall()
    doubles = tuple(types[column].upper() in DOUBLE_TYPES for column in columns)
    return Rows(tuple(columns), doubles, tuple(rows))


def _sorted(rows: Rows) -> list[tuple]:
    """Rows ordered by their exact columns, then their doubles rounded (one row per grain)."""

    def key(row: tuple) -> tuple:
        exact = tuple(
            (value is None, str(value)) for value, double in zip(row, rows.doubles, strict=True) if not double
        )
        rounded = tuple(_rounded(value) for value, double in zip(row, rows.doubles, strict=True) if double)
        return exact, rounded

    return sorted(rows.rows, key=key)


def _rounded(value) -> tuple:
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return (True, 0.0) if missing else (False, float(f"{value:.6g}"))


def _same_row(a: tuple, b: tuple, doubles: Sequence[bool]) -> bool:
    for x, y, double in zip(a, b, doubles, strict=True):
        if not double:
            if x != y:
                return False
        elif _rounded(x)[0] or _rounded(y)[0]:
            if _rounded(x)[0] != _rounded(y)[0]:
                return False
        elif not math.isclose(x, y, rel_tol=RELATIVE_TOLERANCE, abs_tol=RELATIVE_TOLERANCE):
            return False
    return True


def fresh_full_refresh(landing_dir: Path, root: Path) -> Path:
    """A new DuckDB file under ``root`` built by ``full_refresh`` in this process from a copy of the
    files landed in ``landing_dir``; returns its path."""
    from pipeline_tests.support import definitions_with, make_resources, step_failure_message

    copy = root / "landing"
    copy.mkdir(parents=True)
    for path in landing_dir.glob("*.csv"):
        shutil.copyfile(path, copy / path.name)
    job = definitions_with(make_resources(root, copy)).resolve_job_def("full_refresh")
    result = job.execute_in_process(raise_on_error=False)
    assert result.success, step_failure_message(result)
    return root / "warehouse.duckdb"


def overlapping_rounds(handle, connect, tally: Tally, rounds: int = 3, timeout: float = 1800) -> None:
    """``rounds`` rounds on ``handle``'s stack: six months re-delivered, their ``monthly_refresh``
    runs launched at the round's staggered offsets and awaited; ``tally`` counts them. After each
    round, on a connection from ``connect()``: raw and staging flights per month equal the landed
    files, and every mart equals its SQL over staging (AssertionError naming the round if not)."""
    for number in range(1, rounds + 1):
        keys, offsets = round_months(number), stagger(number)
        redeliver(handle.landing_dir, keys)
        run_ids = launch_at(handle, keys, offsets, tags={"overlap/round": str(number)})
        runs = handle.wait_for_runs(run_ids=run_ids, count=len(run_ids), timeout=timeout)
        failed = tally.add(handle, runs)
        launches = ", ".join(f"{key[:7]} +{offset:g} s" for key, offset in zip(keys, offsets, strict=True))
        print(
            f"{tally.backend} round {number} ({launches}): {len(failed)} of {len(runs)} runs failed",
            flush=True,
        )
        with connect() as conn:
            flights = flights_differences(conn, handle.landing_dir)
            assert not flights, f"round {number}: flights per month differ from the landed files: {flights}"
            marts = {name: difference for name in MARTS if (difference := mart_differences(conn, name))}
            assert not marts, f"round {number}: marts differ from their SQL over staging: {marts}"
