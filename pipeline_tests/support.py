"""Helpers the tests share: the code location's resources pointed at temporary folders, in-process
runs on one instance per process, landing zones and what a failed run left behind.

The fixtures are in ``conftest.py``; tests import these from here.
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb

from pipeline.components.warehouse_table import table_folder_defs
from pipeline.definitions import defs
from pipeline.defs.declarations import folder_tables
from pipeline.defs.reports.store import ReportStore
from pipeline.landing.resources import LandingZone
from pipeline.warehouse.io_manager import WarehouseIOManager
from pipeline.warehouse.resources import Warehouse

ALL_MONTHS = {
    "dagster/asset_partition_range_start": "2013-01-01",
    "dagster/asset_partition_range_end": "2013-12-01",
}


def make_resources(root: Path, landing_dir: Path) -> dict[str, object]:
    """The code location's resources pointed at folders under ``root``."""
    database = str(root / "warehouse.duckdb")
    return {
        **defs.resources,
        "io_manager": WarehouseIOManager(database=database),
        "warehouse": Warehouse(path=database),
        "landing_zone": LandingZone(path=str(landing_dir), quarantine_path=str(root / "quarantine")),
        "report_store": ReportStore(path=str(root / "reports")),
    }


def definitions_with(resources: dict[str, object]) -> dg.Definitions:
    """The code location (jobs, schedules and sensors included) bound to ``resources``."""
    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=defs.jobs,
        schedules=defs.schedules,
        sensors=defs.sensors,
        resources=resources,
    )


def step_failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The first failed step's error with its causes, as a user reads it in the run log."""
    error = result.get_step_failure_events()[0].step_failure_data.error
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    return "\n".join(messages)


def landing_with(root: Path, seeded_landing: Path, *names: str) -> Path:
    """``root/landing`` holding copies of the seeded files ``names`` (and nothing else)."""
    landing = root / "landing"
    landing.mkdir()
    for name in names:
        shutil.copy(seeded_landing / name, landing / name)
    return landing


def landing_zone_under(root: Path, seeded_landing: Path, *names: str) -> dict[str, object]:
    """A landing folder under ``root`` with copies of the seeded files ``names``, the resources
    pointed at it, and where the warehouse and the quarantine will be."""
    landing = landing_with(root, seeded_landing, *names)
    return {
        "landing": landing,
        "resources": make_resources(root, landing),
        "database": root / "warehouse.duckdb",
        "quarantine": root / "quarantine",
    }


def copy_zone(template: Path, root: Path) -> dict[str, object]:
    """A copy at ``root`` of a landing zone and warehouse built under ``template`` (landing/,
    archive/, quarantine/, warehouse.duckdb, as ``landing_zone_under`` lays them out), with the
    resources pointed at the copy. Cheaper than loading the same files again for every test."""
    shutil.copytree(template, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.lock"))
    landing = root / "landing"
    return {
        "landing": landing,
        "resources": make_resources(root, landing),
        "database": root / "warehouse.duckdb",
        "quarantine": root / "quarantine",
    }


@functools.cache
def process_instance() -> dg.DagsterInstance:
    """One in-memory Dagster instance per test process, for runs whose tests read only their own
    result. A new one per run (what ``dg.materialize`` makes by default) migrates fresh SQLite
    storage: 0.2 s, as long as many of these runs take."""
    return dg.DagsterInstance.ephemeral()


def materialize(assets, **kwargs) -> dg.ExecuteInProcessResult:
    """``dg.materialize`` recording its run on ``process_instance()`` unless given an instance."""
    if kwargs.get("instance") is None:
        kwargs["instance"] = process_instance()
    return dg.materialize(assets, **kwargs)


def folder_asset(layer: str, table: str) -> dg.AssetsDefinition:
    """The asset the table folder ``pipeline/defs/<layer>/<table>/`` builds, without resources bound."""
    found = folder_tables()[f"{layer}.{table}"]
    [asset] = table_folder_defs(found.declaration, found.folder).assets
    return asset


def load_flights(resources: dict[str, object], month: str, **kwargs) -> dg.ExecuteInProcessResult:
    """One month (``2013-01-01``) of raw/flights materialized in process with ``resources``."""
    return materialize([folder_asset("raw", "flights")], partition_key=month, resources=resources, **kwargs)


def read_note(note: Path) -> dict:
    """A quarantine note (``<file>.reason.json``) as a dict."""
    return json.loads(note.read_text())


def stored_tables(database: Path) -> list[str]:
    """The tables a warehouse file holds (none if the file does not exist): what a failed load left."""
    if not database.exists():
        return []
    with duckdb.connect(str(database), read_only=True) as conn:
        rows = conn.execute(
            "select schema_name || '.' || table_name from duckdb_tables() where not temporary order by 1"
        ).fetchall()
    return [name for (name,) in rows]
