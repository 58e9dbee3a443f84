"""The DuckDB IO manager: dagster-duckdb's DbIOManager with writes that cannot lose data.

The stock DuckDBPandasIOManager (0.29.x) deletes a partition and inserts its rows in separate
autocommitted statements, inserts by column position, and leaves a partition deleted when handed
an empty DataFrame (dagster#14091, #21278). Here every output is written in one transaction under
the warehouse lock: the old slice is deleted and the new rows inserted by column name, or — on any
error, an empty output included — nothing changes. The connection is always closed.

Two kinds of output are stored:
- ``pandas.DataFrame`` (small tables: marts), loaded back as dagster-duckdb-pandas does;
- ``WarehouseQuery``: a SELECT that DuckDB runs straight into the table, so fact tables never make
  a round trip through pandas. Downstream assets load it back as a ``WarehouseQuery`` over the
  stored slice, or as a DataFrame.

pandas is imported when a step first stores or loads a DataFrame, not when the code location
loads: the webserver, the daemon and every run process load this module, most never need pandas.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import dagster as dg
import duckdb
from dagster._core.storage.db_io_manager import DbIOManager, DbTypeHandler, TableSlice
from dagster_duckdb.io_manager import DuckDbClient, DuckDBIOManager, _get_cleanup_statement

from pipeline import constants
from pipeline.paths import resolve_path
from pipeline.warehouse import backends, settings
from pipeline.warehouse import connection as warehouse
from pipeline.warehouse.identifiers import qualified_table_name
from pipeline.warehouse.outputs import (
    EmptyOutputError,
    SchemaMismatchError,
    WarehouseContractType,
    WarehouseQuery,
)

if TYPE_CHECKING:
    import pandas as pd

PREVIEW_ROWS = 5


def table_name(table_slice: TableSlice) -> str:
    return f"{table_slice.schema}.{table_slice.table}"


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
        # Inside a transaction a failed DELETE on a missing table would abort it: look first.
        if warehouse.table_exists(connection, table_slice.schema, table_slice.table):
            connection.execute(_get_cleanup_statement(table_slice)).fetchall()


def _slice_row_count(connection, table_slice: TableSlice) -> int:
    select = WarehouseClient.get_select_statement(table_slice)
    return connection.execute(f"select count(*) from ({select})").fetchall()[0][0]


def _table_columns(connection, table_slice: TableSlice) -> list[tuple[str, str]]:
    return [
        (name, dtype)
        for name, dtype, *_ in connection.execute(f"describe {table_name(table_slice)}").fetchall()
    ]


def _markdown_preview(frame: pd.DataFrame) -> str:
    import pandas as pd

    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = [
        "| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *rows])


def _check_columns_match(context, table_slice: TableSlice, stored: Sequence[str], output: Sequence[str]):
    missing, extra = sorted(set(stored) - set(output)), sorted(set(output) - set(stored))
    if missing or extra:
        raise SchemaMismatchError(
            f"Output of {context.asset_key.to_user_string()} does not match the columns of "
            f"{table_name(table_slice)}: missing {missing or 'none'}, unexpected {extra or 'none'}. "
            "Nothing was written. Re-materialize every partition of the asset after dropping the "
            "table if the change is intended."
        )


def _write(context, table_slice: TableSlice, connection, select_sql: str, params) -> int:
    """Replace the slice with the SELECT's rows by column name; returns the rows written."""
    target = table_name(table_slice)
    partitioned = bool(table_slice.partition_dimensions)
    output_columns = [row[0] for row in connection.execute(f"describe {select_sql}", params).fetchall()]
    if partitioned and warehouse.table_exists(connection, table_slice.schema, table_slice.table):
        stored = [name for name, _ in _table_columns(connection, table_slice)]
        _check_columns_match(context, table_slice, stored, output_columns)
        written = connection.execute(f"insert into {target} by name {select_sql}", params).fetchall()[0][0]
    else:
        connection.execute(f"create or replace table {target} as {select_sql}", params).fetchall()
        written = connection.execute(f"select count(*) from {target}").fetchall()[0][0]

    partition = f" partition {context.partition_key}" if context.has_partition_key else ""
    if written == 0:
        raise EmptyOutputError(
            f"{context.asset_key.to_user_string()}{partition} produced no rows; refusing to "
            f"replace {target}{partition} with nothing. The stored data is unchanged."
        )
    if partitioned:
        in_slice = _slice_row_count(connection, table_slice)
        if in_slice != written:
            raise ValueError(
                f"{context.asset_key.to_user_string()}{partition} produced {written} rows but "
                f"{written - in_slice} of them fall outside the partition "
                f"({table_slice.partition_dimensions[0].partition_expr}). Nothing was written."
            )
    return written


def _output_metadata(context, table_slice: TableSlice, connection, written: int) -> dict[str, Any]:
    select = WarehouseClient.get_select_statement(table_slice)
    preview = connection.execute(f"{select} limit {PREVIEW_ROWS}").fetchdf()
    table_rows = connection.execute(f"select count(*) from {table_name(table_slice)}").fetchall()[0][0]
    if context.has_partition_key:
        row_counts = {"dagster/partition_row_count": written, "dagster/row_count": table_rows}
    elif table_slice.partition_dimensions:  # a range of partitions in one run
        row_counts = {"rows_written": written, "dagster/row_count": table_rows}
    else:
        row_counts = {"dagster/row_count": written}
    return {
        **row_counts,
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(name=name, type=dtype)
                for name, dtype in _table_columns(connection, table_slice)
            ]
        ),
        "preview": dg.MetadataValue.md(_markdown_preview(preview)),
        "dagster/storage_kind": "duckdb",
    }


class DataFrameTypeHandler(DbTypeHandler):
    """Stores DataFrames atomically by column name; loads as dagster-duckdb-pandas does."""

    def handle_output(self, context, table_slice: TableSlice, obj: pd.DataFrame, connection):
        connection.register("_output_frame", obj)
        try:
            written = _write(context, table_slice, connection, "select * from _output_frame", {})
        finally:
            connection.unregister("_output_frame")
        return _output_metadata(context, table_slice, connection, written)

    def load_input(self, context, table_slice: TableSlice, connection) -> pd.DataFrame:
        import pandas as pd

        if table_slice.partition_dimensions and len(context.asset_partition_keys) == 0:
            return pd.DataFrame()
        return connection.execute(DuckDbClient.get_select_statement(table_slice)).fetchdf()

    @property
    def supported_types(self):
        import pandas as pd

        return [pd.DataFrame]


def _output_label(context) -> str:
    """``staging/flights partition 2013-01-01``: the asset and the partitions being written."""
    label = context.asset_key.to_user_string()
    if context.has_asset_partitions:
        keys = context.asset_partition_keys
        label += f" partition {keys[0]}" if len(keys) == 1 else f" partitions {keys[0]}…{keys[-1]}"
    return label


class WarehouseQueryTypeHandler(DbTypeHandler[WarehouseQuery]):
    """Runs a WarehouseQuery inside DuckDB into the table; loads a slice back as a query."""

    def handle_output(self, context, table_slice: TableSlice, obj: WarehouseQuery, connection):
        for function in obj.functions:
            function.register(connection)
        try:
            written = _write(context, table_slice, connection, f"({obj.sql})", dict(obj.params))
        finally:
            for function in obj.functions:
                connection.remove_function(function.name)
        if isinstance(context.dagster_type, WarehouseContractType):
            # Inside the write transaction: a violation rolls the new rows back before commit.
            context.dagster_type.validate_stored_slice(
                connection,
                WarehouseClient.get_select_statement(table_slice),
                output=_output_label(context),
            )
        return _output_metadata(context, table_slice, connection, written)

    def load_input(self, context, table_slice: TableSlice, connection) -> WarehouseQuery:
        return WarehouseQuery(WarehouseClient.get_select_statement(table_slice))

    @property
    def supported_types(self):
        return [WarehouseQuery]


class WarehouseIOManager(DuckDBIOManager):
    """Stores DataFrames and WarehouseQuery outputs in the DuckDB warehouse, one transaction each.

    Tables are named after the asset key: ``["staging", "flights"]`` is ``staging.flights``.
    """

    database: str | None = settings.database_field()  # type: ignore[assignment]
    lock_timeout_seconds: float = settings.lock_timeout_field(
        "How long a write waits for another process's hold on the warehouse."
    )
    threads: int = settings.threads_field()
    memory_limit: str = settings.memory_limit_field()

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [DataFrameTypeHandler(), WarehouseQueryTypeHandler()]

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
