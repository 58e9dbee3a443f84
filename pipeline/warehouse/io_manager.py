"""The DuckDB IO manager: dagster-duckdb's DbIOManager with writes that cannot lose data.

The stock DuckDBPandasIOManager (0.29.x) deletes a partition and inserts its rows in separate
autocommitted statements, inserts by column position, and leaves a partition deleted when handed
an empty DataFrame (dagster#14091, #21278). Here every output is written in one transaction under
the warehouse lock: the old slice is deleted and the new rows inserted by column name, or — on any
error, an empty output included — nothing changes. The connection is always closed.

What it stores — DataFrames, ``WarehouseQuery`` SELECTs run straight into the table, and
``WarehouseLoad`` outputs that insert their own rows — is in pipeline/warehouse/type_handlers.py.

pandas is imported when a step first stores or loads a DataFrame, not when the code location
loads: the webserver, the daemon and every run process load this module, most never need pandas.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster._core.storage.db_io_manager import DbIOManager, DbTypeHandler, TableSlice
from dagster_duckdb.io_manager import DuckDbClient, DuckDBIOManager

from pipeline import constants
from pipeline.paths import resolve_path
from pipeline.warehouse import backends, settings
from pipeline.warehouse.identifiers import qualified_table_name
from pipeline.warehouse.type_handlers import (
    DataFrameTypeHandler,
    WarehouseLoadTypeHandler,
    WarehouseQueryTypeHandler,
    delete_stored_slice,
    replaces_its_own_slice,
)


class WarehouseClient(DuckDbClient):
    """Wraps each store in one transaction under the backend's write lock (pipeline.warehouse.backends)."""

    @staticmethod
    @contextmanager
    def connect(context, table_slice: TableSlice) -> Iterator[duckdb.DuckDBPyConnection]:
        # Schema and table reach SQL text (here and in dagster-duckdb's statements): refuse
        # anything that is not a plain identifier before a connection exists.
        qualified_table_name(table_slice.schema, table_slice.table)
        config = context.resource_config
        target = backends.resolve(
            config["database"], config["lock_timeout_seconds"], config["threads"], config["memory_limit"]
        )
        if isinstance(context, dg.InputContext) and target.backend == backends.DUCKLAKE:
            # Loads from the lake take no lock: they read the last committed snapshot.
            with backends.connect(target, config=config["connection_config"]) as conn:
                yield conn
            return
        with backends.write_transaction(
            target, table_slice.schema, table_slice.table, config=config["connection_config"]
        ) as conn:
            yield conn

    @staticmethod
    def ensure_schema_exists(context, table_slice: TableSlice, connection) -> None:
        connection.execute(f"create schema if not exists {table_slice.schema}").fetchall()

    @staticmethod
    def delete_table_slice(context, table_slice: TableSlice, connection) -> None:
        # A WarehouseLoad's handler deletes the slice itself, after the load has read it.
        if not replaces_its_own_slice(context):
            delete_stored_slice(table_slice, connection)


class WarehouseIOManager(DuckDBIOManager):
    """Stores DataFrames and WarehouseQuery outputs in the DuckDB warehouse, one transaction each.

    Tables are named after the asset key: ``["staging", "<table>"]`` is ``staging.<table>``.
    """

    database: str | None = settings.database_field()  # type: ignore[assignment]
    lock_timeout_seconds: float = settings.lock_timeout_field(
        "How long a write waits for another process's hold on the warehouse."
    )
    threads: int = settings.threads_field()
    memory_limit: str = settings.memory_limit_field()

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [DataFrameTypeHandler(), WarehouseQueryTypeHandler(), WarehouseLoadTypeHandler()]

    @staticmethod
    def default_load_type() -> type | None:
        import pandas as pd

        return pd.DataFrame

    def create_io_manager(self, context) -> DbIOManager:
        return DbIOManager(
            db_client=WarehouseClient(),
            database=str(self.resolved_database),
            schema=self.schema_,
            type_handlers=self.type_handlers(),
            default_load_type=self.default_load_type(),
            io_manager_name="WarehouseIOManager",
        )

    @property
    def resolved_database(self):
        return resolve_path(self.database, constants.WAREHOUSE_PATH_ENV, constants.DEFAULT_WAREHOUSE_PATH)
