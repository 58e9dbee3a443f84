"""Config fields the warehouse resource and the IO manager share: the DuckDB file and its settings."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from pipeline.warehouse.connection import DEFAULT_MEMORY_LIMIT, DEFAULT_THREADS


def database_field() -> Any:
    return Field(default=None, description="DuckDB file; default $WAREHOUSE_PATH or data/warehouse.duckdb.")


def lock_timeout_field(description: str) -> Any:
    return Field(default=300.0, description=description)


def threads_field() -> Any:
    return Field(
        default=DEFAULT_THREADS,
        description="DuckDB threads per connection; default 2, the cores of the machine it was tuned on.",
    )


def memory_limit_field() -> Any:
    return Field(
        default=DEFAULT_MEMORY_LIMIT,
        description="DuckDB memory limit per connection (e.g. 600MB); beyond it DuckDB spills to disk.",
    )
