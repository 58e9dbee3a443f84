"""What an asset hands the warehouse IO manager, and the types that describe it.

A ``WarehouseQuery`` is a SELECT that DuckDB runs straight into the asset's table (fact tables never
pass through pandas); a ``WarehouseLoad`` inserts its rows itself inside the write transaction (the
raw ingest: each landed file parsed once, checked and inserted); a DataFrame is stored as it is. ``WarehouseContractType`` lets a query's
Dagster type check the stored rows inside the write transaction (pipeline/warehouse/contracts.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import duckdb


class EmptyOutputError(ValueError):
    """An asset produced no rows; writing it would wipe the slice it replaces."""


class SchemaMismatchError(ValueError):
    """An output's columns differ from the stored table's."""


@dataclass(frozen=True)
class SqlFunction:
    """A Python function the SQL of a WarehouseQuery calls, registered on the connection that runs it.

    Types are DuckDB type names (``VARCHAR``, ``STRUCT(a INTEGER)[]``).
    """

    name: str
    function: Callable[..., Any]
    parameters: tuple[str, ...]
    return_type: str

    def register(self, connection: duckdb.DuckDBPyConnection) -> None:
        connection.create_function(
            self.name,
            self.function,
            [duckdb.sqltype(parameter) for parameter in self.parameters],
            duckdb.sqltype(self.return_type),
            side_effects=False,
        )


@dataclass(frozen=True)
class WarehouseQuery:
    """A SELECT for DuckDB to run into the asset's table, with its parameters (and Python functions)."""

    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)
    functions: tuple[SqlFunction, ...] = ()


class WarehouseLoad(ABC):
    """An output that inserts its own rows, inside the IO manager's write transaction.

    For a source that must be checked where it is parsed, so that it is read once. The IO manager
    calls ``before_replace`` with the stored slice (if the table exists), deletes that slice,
    creates the table from ``columns`` if it does not exist, calls ``insert`` and then checks the
    written rows as for any other output; anything raised leaves the stored data as it was.
    """

    def before_replace(self, connection: duckdb.DuckDBPyConnection, stored_slice: str) -> None:
        """Inside the write transaction, before the rows of ``stored_slice`` (a SELECT) are deleted:
        a load may read what it replaces, e.g. to report what it changed. Default: nothing."""
        return None

    @property
    @abstractmethod
    def columns(self) -> Mapping[str, str]:
        """The table's columns and their DuckDB types, in order."""

    @abstractmethod
    def insert(self, connection: duckdb.DuckDBPyConnection, table: str) -> Mapping[str, Any]:
        """Insert the rows into ``table`` (``schema.name``); returns metadata for the materialization."""


def _is_dataframe(_context, value) -> dg.TypeCheck:
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return dg.TypeCheck(success=True)
    return dg.TypeCheck(success=False, description=f"Expected a DataFrame, got {type(value).__name__}.")


# The type of a DataFrame input or output that declares no contract: what a ``pd.DataFrame``
# annotation would give, without importing pandas when the code location loads. Loaded as a
# DataFrame: the IO manager's default load type.
DATAFRAME = dg.DagsterType(type_check_fn=_is_dataframe, name="DataFrame", description="A pandas DataFrame.")

# The resource key of the IO manager for values handed between ops (maintenance's, a graph-backed
# asset's) rather than stored in the warehouse.
INTERMEDIATE_IO_MANAGER = "intermediate_io_manager"


class WarehouseContractType(dg.DagsterType):
    """The Dagster type of a WarehouseQuery output whose rules DuckDB checks on the stored rows.

    A WarehouseQuery cannot be validated before it runs; the IO manager calls
    ``validate_stored_slice`` after the insert and before the commit, so raising there leaves the
    stored data as it was (see pipeline.contracts).
    """

    def validate_stored_slice(self, connection, slice_select: str, *, output: str) -> None:
        raise NotImplementedError
