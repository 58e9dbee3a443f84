"""The ``warehouse`` resource: the DuckDB file, opened under the project's inter-process lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from pipeline import constants
from pipeline.paths import resolve_path
from pipeline.warehouse import backends, connection


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file, opened under the project's inter-process lock."""

    path: str | None = Field(
        default=None, description="DuckDB file; default $WAREHOUSE_PATH or data/warehouse.duckdb."
    )
    lock_timeout_seconds: float = Field(
        default=300.0,
        description="How long to wait for another process's hold on the warehouse before failing.",
    )
    threads: int = Field(
        default=connection.DEFAULT_THREADS,
        description="DuckDB threads per connection; default 2, the cores of the machine it was tuned on.",
    )
    memory_limit: str = Field(
        default=connection.DEFAULT_MEMORY_LIMIT,
        description="DuckDB memory limit per connection (e.g. 1GB); beyond it DuckDB spills to disk.",
    )

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
