"""Two real runs forced into the order that made a stale mart: run X rebuilds the mart and is held
after it has read staging and written its new version, before its commit; run Y meanwhile loads a
re-delivered month through raw and staging and rebuilds the same mart; then X is let go.

Before write–audit–publish, X's read, write and check were three steps: Y's staging commit landed
between them, X's reconciliation failed on correct data, or X wrote a mart built before Y's month
after Y had rebuilt it. Now, on either backend, both runs succeed, X's reconciliation passes on the
snapshot it built from, and the mart left in place equals its SQL over the staging that is left.
The file backend gets there by holding the file while X publishes (Y's load waits for X's commit);
the lake lets Y's staging commit while X is held, and Y's rebuild waits for X's table lock.

Each run is its own process (as the run launcher starts them); X is held by a barrier file inside
its publishing transaction, not by timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from deploy import processes
from pipeline.defs.raw.landed import LANDED_TABLES
from pipeline.landing import landed_tables as landing
from pipeline_tests import lake
from pipeline_tests.processes import PROJECT_ROOT

MART = ["marts", "carrier_monthly_performance"]
MONTHS = ("2013-01-01", "2013-02-01")
REDELIVERED = "2013-02-01"
DROPPED_ROWS = 400
TIMEOUT_SECONDS = 300

CHILD = """
import json, sys, time
from pathlib import Path
from pipeline_tests.warehouse.test_publish_interleaving import run_role
print(json.dumps(run_role(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))))
"""


def _wait_for(path: Path, child: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not path.exists():
        if child is not None and child.poll() is not None:
            raise AssertionError(f"the run exited before {path.name}:\n{child.stderr.read()[-4000:]}")
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def _resources(root: Path):
    from pipeline_tests.support import make_resources

    return make_resources(root, root / "landing")


def _selection(*keys: list[str]):
    import dagster as dg

    return dg.AssetSelection.assets(*[dg.AssetKey(key) for key in keys])


def _materialize(root: Path, selection, partition: str | None = None, instance=None):
    import dagster as dg

    from pipeline.definitions import defs

    return dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=selection,
        resources=_resources(root),
        partition_key=partition,
        instance=instance or dg.DagsterInstance.ephemeral(),
    )


def _committed_at(instance, result, key: list[str]) -> float:
    """When the run recorded its materialization of ``key`` (just after the commit)."""
    import dagster as dg

    records = instance.fetch_materializations(dg.AssetKey(key), limit=100).records
    [record] = [record for record in records if record.run_id == result.run_id]
    return record.timestamp


def run_role(role: str, root: Path, barrier: Path) -> dict:
    """One of the two runs, in its own process: ``held`` rebuilds the mart and waits inside its
    transaction for ``go``; ``month`` loads the re-delivered month and rebuilds the mart."""
    import dagster as dg

    from pipeline.warehouse import publish

    instance = dg.DagsterInstance.ephemeral()
    if role == "held":
        replace = publish._replace

        def held_replace(conn, table):
            changes = replace(conn, table)
            (barrier / "held").touch()
            _wait_for(barrier / "go")
            return changes

        publish._replace = held_replace
        result = _materialize(root, dg.AssetSelection.assets(dg.AssetKey(MART)), instance=instance)
        return {
            "success": result.success,
            "checks": [check.passed for check in result.get_asset_check_evaluations()],
            "published_at": _committed_at(instance, result, MART),
        }
    (barrier / "month-started").touch()
    staged = _materialize(
        root, _selection(["raw", "flights"], ["staging", "flights"]), REDELIVERED, instance=instance
    )
    rebuilt = _materialize(root, dg.AssetSelection.assets(dg.AssetKey(MART)), instance=instance)
    return {
        "success": staged.success and rebuilt.success,
        "checks": [check.passed for check in rebuilt.get_asset_check_evaluations()],
        "staged_at": _committed_at(instance, staged, ["staging", "flights"]),
        "published_at": _committed_at(instance, rebuilt, MART),
    }


def _build(root: Path) -> None:
    """Dimensions, two months and the mart."""
    import dagster as dg

    dimensions = dg.AssetSelection.assets(
        *[dg.AssetKey([layer, name]) for layer in ("raw", "staging") for name in LANDED_TABLES.whole],
        dg.AssetKey(["staging", "time_zone_offsets"]),
    )
    assert _materialize(root, dimensions).success
    for month in MONTHS:
        assert _materialize(
            root, _selection(["raw", "flights"], ["staging", "flights"]), partition=month
        ).success
    assert _materialize(root, _selection(MART)).success


def _start(role: str, root: Path, barrier: Path, env: dict[str, str]) -> subprocess.Popen:
    return processes.start(
        [sys.executable, "-c", CHILD, role, str(root), str(barrier)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(child: subprocess.Popen) -> dict:
    stdout, stderr = child.communicate(timeout=TIMEOUT_SECONDS)
    assert child.returncode == 0, stderr[-4000:]
    return json.loads(stdout.strip().splitlines()[-1])


def _mart_differences(conn) -> int:
    """Rows in the stored mart and not in its SQL over the stored staging, and the other way."""
    from pipeline.warehouse.connection import read_sql

    sql = read_sql("marts", "carrier_monthly_performance/carrier_monthly_performance")
    columns = "carrier, month, flights, cancelled_flights, round(mean_dep_delay_minutes, 6)"
    stored = f"select {columns} from {'.'.join(MART)}"
    fresh = f"select {columns} from ({sql})"
    return conn.execute(
        f"select count(*) from (({stored} except all {fresh}) union all ({fresh} except all {stored}))"
    ).fetchone()[0]


def _force_the_order(
    root: Path, seeded_landing: Path, env: dict[str, str], month_staged: Callable[[int], bool]
) -> tuple[dict, dict]:
    """Build, re-deliver February smaller, hold X inside its publish, run Y until ``month_staged``
    (given February's re-delivered rows) says so or it had its chance, then let X go."""
    landed = root / "landing"
    landed.mkdir()
    names = [f"{name}.csv" for name in LANDED_TABLES.whole]
    for name in [*names, *(landing.monthly_file_name("flights", month) for month in MONTHS)]:
        (landed / name).write_bytes((seeded_landing / name).read_bytes())
    _build(root)
    rows = lake.redeliver_smaller(landed / landing.monthly_file_name("flights", REDELIVERED), DROPPED_ROWS)
    barrier = root / "barrier"
    barrier.mkdir()
    held = _start("held", root, barrier, env)
    month = None
    try:
        _wait_for(barrier / "held", held)
        month = _start("month", root, barrier, env)
        _wait_for(barrier / "month-started", month)
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while not month_staged(rows):
            assert time.monotonic() < deadline and month.poll() is None, "the month run did not stage"
            time.sleep(0.2)
        (barrier / "go").touch()
        return _result(held), _result(month)
    finally:
        processes.stop(*[child for child in (held, month) if child is not None], grace=10)


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}


@pytest.mark.integration
def test_a_month_run_during_a_mart_publish_waits_and_the_mart_ends_current(tmp_path, seeded_landing):
    from pipeline.warehouse.connection import connect

    started = time.monotonic()

    def had_its_chance(_rows: int) -> bool:
        # The file cannot be read while X holds it: give the month run time to reach its load.
        return time.monotonic() - started > 3

    held, month = _force_the_order(tmp_path, seeded_landing, _environment(), had_its_chance)

    assert held["success"] and month["success"]
    assert held["checks"] == [True] and month["checks"] == [True]
    # The file is held while X publishes: the month's staging commit comes after X's commit.
    assert held["published_at"] <= month["staged_at"] <= month["published_at"]
    with connect(tmp_path / "warehouse.duckdb", read_only=True) as conn:
        assert _mart_differences(conn) == 0
        february = conn.execute(
            "select count(*) from staging.flights where month(flight_date) = 2"
        ).fetchone()[0]
    assert february == lake.csv_rows(tmp_path / "landing" / landing.monthly_file_name("flights", REDELIVERED))


@pytest.mark.integration
@pytest.mark.needs_postgres
@lake.requires_lake
def test_on_the_lake_a_stale_build_is_published_first_and_the_newer_one_last(
    tmp_path, seeded_landing, monkeypatch
):
    with lake.lake_catalog() as catalog:
        lake_env = lake.lake_environment(catalog, tmp_path / "lake")
        for name, value in lake_env.items():
            monkeypatch.setenv(name, value)

        def staged(rows: int) -> bool:
            with lake.lake_connection(catalog, tmp_path / "lake") as conn:
                return lake.flights_by_month(conn).get(2) == rows

        held, month = _force_the_order(tmp_path, seeded_landing, _environment(), staged)

        assert held["success"] and month["success"]
        assert held["checks"] == [True] and month["checks"] == [True]
        # The lake does not hold staging: the month commits while X is held (X then publishes a
        # build over the older snapshot, consistent in itself), and its rebuild comes last.
        assert month["staged_at"] <= held["published_at"] <= month["published_at"]
        with lake.lake_connection(catalog, tmp_path / "lake") as conn:
            assert _mart_differences(conn) == 0
            assert lake.inconsistent_tables(conn) == {}
