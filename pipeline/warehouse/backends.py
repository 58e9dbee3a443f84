"""The warehouse backend, chosen by configuration: the DuckDB file (default) or a DuckLake lake.

``WAREHOUSE_BACKEND`` (read when a connection opens, like every location setting):

- ``duckdb`` (default, the quick start): one DuckDB file (``WAREHOUSE_PATH``). Every connection
  holds the file's inter-process flock (pipeline/warehouse/connection.py): one process at a time.
- ``ducklake``: catalog in PostgreSQL (``DUCKLAKE_CATALOG``, a libpq connection string; the
  password comes from ``PGPASSWORD``, never from a file), Parquet data under
  ``DUCKLAKE_DATA_PATH`` (a folder here, object storage in production). Readers take no lock and
  see a snapshot; writers of one table queue on a PostgreSQL advisory lock, other tables write in
  parallel (pipeline/warehouse/ducklake.py).

Both give the same SQL the same ``raw``/``staging``/``marts`` schemas, so assets, the IO manager,
contracts and checks do not know which one they run on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipeline import constants
from pipeline.paths import resolve_path
from pipeline.warehouse import connection, ducklake, pg_locks

FILE = "duckdb"
DUCKLAKE = "ducklake"
BACKENDS = (FILE, DUCKLAKE)


class UnknownBackend(ValueError):
    """WAREHOUSE_BACKEND names no backend."""


@dataclass(frozen=True)
class Target:
    """Where the warehouse is: the backend and its settings, resolved at connection time."""

    backend: str
    database: Path
    catalog: str | None = None
    data_path: str | None = None
    lock_timeout_seconds: float = 300.0
    threads: int = connection.DEFAULT_THREADS
    memory_limit: str = connection.DEFAULT_MEMORY_LIMIT

    def settings(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        """DuckDB settings of a lake connection: ``config`` plus the target's threads and memory."""
        return {**dict(config or {}), "threads": self.threads, "memory_limit": self.memory_limit}

    def describe(self) -> str:
        if self.backend == DUCKLAKE:
            return f"DuckLake (catalog {self.catalog!r}, data {self.data_path})"
        return f"DuckDB file {self.database}"


def backend_name(configured: str | None = None) -> str:
    name = (configured or os.environ.get(constants.WAREHOUSE_BACKEND_ENV) or FILE).strip().lower()
    if name not in BACKENDS:
        raise UnknownBackend(
            f"{constants.WAREHOUSE_BACKEND_ENV}={name!r}: expected one of {', '.join(BACKENDS)}."
        )
    return name


def resolve(
    database: str | None,
    lock_timeout_seconds: float = 300.0,
    threads: int = connection.DEFAULT_THREADS,
    memory_limit: str = connection.DEFAULT_MEMORY_LIMIT,
) -> Target:
    """The target from the environment; ``database`` is the file backend's explicit path."""
    backend = backend_name()
    path = resolve_path(database, constants.WAREHOUSE_PATH_ENV, constants.DEFAULT_WAREHOUSE_PATH)
    limits = {"lock_timeout_seconds": lock_timeout_seconds, "threads": threads, "memory_limit": memory_limit}
    if backend == FILE:
        return Target(FILE, path, **limits)
    catalog = ducklake.check_catalog(os.environ.get(constants.DUCKLAKE_CATALOG_ENV))
    data_path = os.environ.get(constants.DUCKLAKE_DATA_PATH_ENV, "")
    if "://" not in data_path:  # a folder (object-store URLs are taken as they are)
        data_path = str(
            resolve_path(None, constants.DUCKLAKE_DATA_PATH_ENV, constants.DEFAULT_DUCKLAKE_DATA_PATH)
        )
    return Target(DUCKLAKE, path, catalog, data_path, **limits)


@contextmanager
def connect(
    target: Target, *, read_only: bool = False, config: Mapping[str, Any] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for reading (or, on the file backend, anything: it holds the file's lock)."""
    if target.backend == DUCKLAKE:
        with ducklake.connect(
            target.catalog, target.data_path, read_only=read_only, config=target.settings(config)
        ) as conn:
            yield conn
        return
    with connection.connect(
        target.database,
        timeout_seconds=target.lock_timeout_seconds,
        read_only=read_only,
        config=config,
        threads=target.threads,
        memory_limit=target.memory_limit,
    ) as conn:
        yield conn


@contextmanager
def write_transaction(
    target: Target, schema: str, table: str, *, config: Mapping[str, Any] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction that writes ``schema.table``: committed whole or not at all.

    The file backend holds the file's lock for the connection; DuckLake holds the table's
    advisory lock for the transaction, and creates the schema first if it is missing.
    """
    if target.backend == DUCKLAKE:
        with (
            ducklake.connect(target.catalog, target.data_path, config=target.settings(config)) as conn,
            ducklake.write_transaction(conn, target.catalog, schema, table, target.lock_timeout_seconds),
        ):
            yield conn
        return
    with connect(target, config=config) as conn, connection.transaction(conn):
        yield conn


@contextmanager
def exclusive(
    target: Target, name: str, *, config: Mapping[str, Any] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for reading, held under the lock that orders the writers of ``name``.

    For an output written outside the warehouse from what it reads (a report): two runs then read
    and write it one after the other, so the later reader is the later writer. The file backend's
    connection holds the file's lock; DuckLake takes ``name``'s advisory lock before it connects,
    so the snapshot read includes every commit made before the lock was granted.
    """
    if target.backend == DUCKLAKE:
        with (
            pg_locks.advisory_lock(
                target.catalog, ducklake.write_lock_name(name), target.lock_timeout_seconds
            ),
            ducklake.connect(
                target.catalog, target.data_path, read_only=True, config=target.settings(config)
            ) as conn,
        ):
            yield conn
        return
    with connect(target, config=config) as conn:
        yield conn
