"""The ``warehouse`` resource: the DuckDB file, opened under the project's inter-process lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import duckdb

from pipeline import constants
from pipeline.paths import resolve_path
from pipeline.warehouse import backends, settings

if TYPE_CHECKING:
    from pipeline.warehouse.tables import Table


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file, opened under the project's inter-process lock."""

    path: str | None = settings.database_field()
    lock_timeout_seconds: float = settings.lock_timeout_field(
        "How long to wait for another process's hold on the warehouse before failing."
    )
    threads: int = settings.threads_field()
    memory_limit: str = settings.memory_limit_field()

    @property
    def database(self) -> Path:
        return resolve_path(self.path, constants.WAREHOUSE_PATH_ENV, constants.DEFAULT_WAREHOUSE_PATH)

    @property
    def target(self) -> backends.Target:
        """The backend and its settings (WAREHOUSE_BACKEND; ``path`` is the file backend's)."""
        return backends.resolve(self.path, self.lock_timeout_seconds, self.threads, self.memory_limit)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The file under its lock, or the lake without one (a reader sees a snapshot)."""
        with backends.connect(self.target, read_only=read_only) as conn:
            yield conn

    @contextmanager
    def write_transaction(self, table: Table) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction that replaces ``table``, committed whole or not at all; its reads see one
        snapshot, and no other writer of the table runs until it ends (pipeline/warehouse/publish.py)."""
        with backends.write_transaction(self.target, table.schema, table.name) as conn:
            yield conn

    @contextmanager
    def exclusive(self, name: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """A reading connection held under the write lock of ``name`` (``schema.table``, or an output
        outside the warehouse, such as a report): whoever reads later also writes later."""
        with backends.exclusive(self.target, name) as conn:
            yield conn
