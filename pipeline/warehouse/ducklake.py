"""The DuckLake warehouse: catalog in PostgreSQL, data as Parquet files, many processes at once.

A connection is an in-memory DuckDB with the lake attached as ``lake`` and selected (``use lake``),
so the project's SQL (``raw.<table>``, ``staging.<table>``, ...) runs unchanged. Readers see a
snapshot and take no lock. Writers of one table are serialized across processes and machines by
``table_write_lock`` (pipeline/warehouse/pg_locks.py): DuckLake's optimistic concurrency lets two
replacements of one table conflict at commit, or — two deletes on a data file that already has a
delete file — both commit and corrupt the table (measured with duckdb 1.5.5, see PITFALLS).

Extensions: DuckDB would download ``ducklake`` and ``postgres`` on first use. Offline, they come
from the PyPI wheels ``duckdb-extension-ducklake`` and ``duckdb-extension-postgres`` (DuckDB's
signed binaries, one wheel per duckdb version): installed from the wheel's file into our own
extension directory with auto-install off. Where no wheel matches the installed duckdb, the
extensions are installed from DuckDB's repository (``INSTALL ducklake``), which needs network.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from pipeline.warehouse import connection, pg_locks

LAKE = "lake"
# (extension name as DuckDB knows it, the wheel's module, the file's stem inside the wheel)
EXTENSIONS = (
    ("ducklake", "duckdb_extension_ducklake", "ducklake"),
    ("postgres_scanner", "duckdb_extension_postgres", "postgres"),
)
# No surprise downloads: every extension is installed and loaded explicitly below.
EXTENSION_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
# Commits to *different* tables race for the next snapshot id; DuckLake retries the loser after
# checking that the changes do not conflict. Many parallel steps need more than the default 10.
COMMIT_SETTINGS = {"ducklake_max_retry_count": 100, "ducklake_retry_wait_ms": 50}
SCHEMA_LOCK_PREFIX = "schema:"
CATALOG_LOCK_NAME = "catalog:initialize"


class DuckLakeConfigurationError(ValueError):
    """The DuckLake backend is selected but its settings are missing or unsafe."""


def extension_directory() -> Path:
    """Where this machine's DuckDB extensions are installed for the lake (per user)."""
    return Path(tempfile.gettempdir()) / f"pipeline-duckdb-extensions-{os.getuid()}"


def wheel_extension(module: str, stem: str) -> Path | None:
    """The extension file shipped by ``module``'s wheel for the installed duckdb, if any."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "extensions" / f"v{duckdb.__version__}"
    path = path / f"{stem}.duckdb_extension"
    return path if path.is_file() else None


_installed: set[str] = set()
_install_mutex = threading.Lock()


def _install_extensions(conn: duckdb.DuckDBPyConnection) -> None:
    """Install both extensions into ``extension_directory()`` once per process and machine."""
    with _install_mutex:
        if all(name in _installed for name, *_ in EXTENSIONS):
            return
        directory = extension_directory()
        directory.mkdir(parents=True, exist_ok=True)
        # Processes starting together must not write the same file at once.
        with open(directory / ".install.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            installed = {
                name
                for (name,) in conn.execute(
                    "select extension_name from duckdb_extensions() where installed"
                ).fetchall()
            }
            for name, module, stem in EXTENSIONS:
                if name not in installed:
                    source = wheel_extension(module, stem)
                    # Offline from the wheel; otherwise DuckDB's repository (needs network).
                    target = f"'{source}'" if source is not None else stem
                    conn.execute(f"install {target}").fetchall()
                _installed.add(name)


def load_extensions(conn: duckdb.DuckDBPyConnection) -> None:
    _install_extensions(conn)
    for name, *_ in EXTENSIONS:
        conn.execute(f"load {name}").fetchall()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def check_catalog(catalog: str | None) -> str:
    """The libpq connection string of the catalog, refused if missing or holding a password."""
    if not catalog or not catalog.strip():
        raise DuckLakeConfigurationError(
            "WAREHOUSE_BACKEND=ducklake needs DUCKLAKE_CATALOG, a libpq connection string such as "
            "'dbname=warehouse_lake host=127.0.0.1 user=postgres'."
        )
    if "password" in catalog.lower():
        raise DuckLakeConfigurationError(
            "DUCKLAKE_CATALOG must not contain a password: set PGPASSWORD (or a ~/.pgpass managed "
            "by the platform's secret store) in the environment instead."
        )
    return catalog.strip()


def data_path_option(data_path: str | Path) -> str:
    """DuckLake's DATA_PATH: a local folder (created, with a trailing slash) or an object-store URL."""
    text = str(data_path)
    if "://" in text:
        return text if text.endswith("/") else text + "/"
    folder = Path(text).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"{folder}/"


_initialized: set[str] = set()


def _attach(conn: duckdb.DuckDBPyConnection, catalog: str, data_path: str, read_only: bool) -> None:
    options = [f"data_path {_literal(data_path)}"] + (["read_only"] if read_only else [])
    conn.execute(
        f"attach {_literal('ducklake:postgres:' + catalog)} as {LAKE} ({', '.join(options)})"
    ).fetchall()


def _attach_first_time(
    conn: duckdb.DuckDBPyConnection, catalog: str, data_path: str, read_only: bool
) -> None:
    """Attach; the process that finds no lake in the catalog creates it, one process at a time."""
    if catalog in _initialized or pg_locks.catalog_exists(catalog):
        _attach(conn, catalog, data_path, read_only)
    else:
        with pg_locks.advisory_lock(catalog, CATALOG_LOCK_NAME, timeout_seconds=120):
            _attach(conn, catalog, data_path, read_only=False)
            if read_only:
                conn.execute(f"detach {LAKE}").fetchall()
                _attach(conn, catalog, data_path, read_only=True)
    _initialized.add(catalog)


@contextmanager
def connect(
    catalog: str,
    data_path: str | Path,
    *,
    read_only: bool = False,
    config: Mapping[str, Any] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the lake attached and selected; closed however the block ends."""
    catalog = check_catalog(catalog)
    settings = {**dict(config or {}), **EXTENSION_CONFIG, "extension_directory": str(extension_directory())}
    conn = duckdb.connect(config=settings)
    try:
        load_extensions(conn)
        for name, value in COMMIT_SETTINGS.items():
            conn.execute(f"set {name} = {int(value)}").fetchall()
        _attach_first_time(conn, catalog, data_path_option(data_path), read_only)
        conn.execute(f"use {LAKE}").fetchall()
        # Timestamps render and bin in UTC whatever the machine's zone (as the file backend).
        conn.execute("set TimeZone = 'UTC'").fetchall()
        yield conn
    finally:
        conn.close()


def schema_exists(conn: duckdb.DuckDBPyConnection, schema: str) -> bool:
    return bool(
        conn.execute(
            "select count(*) from information_schema.schemata where catalog_name = ? and schema_name = ?",
            [LAKE, schema],
        ).fetchall()[0][0]
    )


def ensure_schema(conn: duckdb.DuckDBPyConnection, catalog: str, schema: str, timeout_seconds: float) -> None:
    """Create ``schema`` unless it exists, in a commit of its own: two first writers of a layer
    creating it in their own transactions would conflict."""
    if schema_exists(conn, schema):
        return
    with pg_locks.advisory_lock(catalog, SCHEMA_LOCK_PREFIX + schema, timeout_seconds):
        conn.execute(f"create schema if not exists {schema}").fetchall()


@contextmanager
def write_transaction(
    conn: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str, timeout_seconds: float
) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction writing ``schema.table``, under that table's lock, which is taken before
    the transaction starts (so its snapshot includes the previous writer's commit) and released
    after the commit or rollback."""
    ensure_schema(conn, catalog, schema, timeout_seconds)
    with (
        pg_locks.advisory_lock(catalog, write_lock_name(f"{schema}.{table}"), timeout_seconds),
        connection.transaction(conn),
    ):
        yield conn


def write_lock_name(name: str) -> str:
    """The advisory lock that orders the writers of ``name`` (``schema.table`` or another output)."""
    return f"table:{name}"
