"""How the IO manager stores each kind of output, inside the write transaction it opens.

- ``pandas.DataFrame`` (small tables: marts), loaded back as dagster-duckdb-pandas does;
- ``WarehouseQuery``: a SELECT that DuckDB runs straight into the table, so fact tables never make
  a round trip through pandas. Downstream assets load it back as a ``WarehouseQuery`` over the
  stored slice, or as a DataFrame;
- ``WarehouseLoad``: an output that inserts its rows itself (the raw ingest).

Every kind is written by column name and then checked the same way: no rows at all, or rows
outside the partition being written, raise, and the transaction leaves the stored data as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster._core.storage.db_io_manager import DbTypeHandler, TableSlice
from dagster_duckdb.io_manager import DuckDbClient, _get_cleanup_statement

from pipeline.warehouse import connection as warehouse
from pipeline.warehouse.identifiers import validate_identifier
from pipeline.warehouse.outputs import (
    EmptyOutputError,
    SchemaMismatchError,
    WarehouseContractType,
    WarehouseLoad,
    WarehouseQuery,
)

if TYPE_CHECKING:
    import pandas as pd

PREVIEW_ROWS = 5


def table_name(table_slice: TableSlice) -> str:
    return f"{table_slice.schema}.{table_slice.table}"


def _scalar(connection, sql: str, params=None) -> Any:
    return connection.execute(sql, params or {}).fetchall()[0][0]


def _table_columns(connection, table_slice: TableSlice) -> list[tuple[str, str]]:
    return [
        (name, dtype)
        for name, dtype, *_ in connection.execute(f"describe {table_name(table_slice)}").fetchall()
    ]


def markdown_preview(frame: pd.DataFrame) -> str:
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


def _appends_to_stored_table(context, table_slice: TableSlice, connection, columns: Sequence[str]) -> bool:
    """A partitioned output adds to the stored table (whose columns must match); others replace it."""
    if not table_slice.partition_dimensions:
        return False
    if not warehouse.table_exists(connection, table_slice.schema, table_slice.table):
        return False
    stored = [name for name, _ in _table_columns(connection, table_slice)]
    _check_columns_match(context, table_slice, stored, columns)
    return True


def _check_written(context, table_slice: TableSlice, connection, written: int) -> None:
    """Refuse an empty output, and rows that fall outside the partitions being written."""
    target = table_name(table_slice)
    partition = f" partition {context.partition_key}" if context.has_partition_key else ""
    if written == 0:
        raise EmptyOutputError(
            f"{context.asset_key.to_user_string()}{partition} produced no rows; refusing to "
            f"replace {target}{partition} with nothing. The stored data is unchanged."
        )
    if table_slice.partition_dimensions:
        in_slice = _scalar(
            connection, f"select count(*) from ({DuckDbClient.get_select_statement(table_slice)})"
        )
        if in_slice != written:
            raise ValueError(
                f"{context.asset_key.to_user_string()}{partition} produced {written} rows but "
                f"{written - in_slice} of them fall outside the partition "
                f"({table_slice.partition_dimensions[0].partition_expr}). Nothing was written."
            )


def _write(context, table_slice: TableSlice, connection, select_sql: str, params) -> int:
    """Replace the slice with the SELECT's rows by column name; returns the rows written."""
    target = table_name(table_slice)
    output_columns = [row[0] for row in connection.execute(f"describe {select_sql}", params).fetchall()]
    if _appends_to_stored_table(context, table_slice, connection, output_columns):
        written = _scalar(connection, f"insert into {target} by name {select_sql}", params)
    else:
        connection.execute(f"create or replace table {target} as {select_sql}", params).fetchall()
        written = _scalar(connection, f"select count(*) from {target}")
    _check_written(context, table_slice, connection, written)
    return written


def _output_metadata(context, table_slice: TableSlice, connection, written: int) -> dict[str, Any]:
    select = DuckDbClient.get_select_statement(table_slice)
    preview = connection.execute(f"{select} limit {PREVIEW_ROWS}").fetchdf()
    table_rows = _scalar(connection, f"select count(*) from {table_name(table_slice)}")
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
        "preview": dg.MetadataValue.md(markdown_preview(preview)),
        "dagster/storage_kind": "duckdb",
    }


def _output_label(context) -> str:
    """``staging/<table> partition 2013-01-01``: the asset and the partitions being written."""
    label = context.asset_key.to_user_string()
    if context.has_asset_partitions:
        keys = context.asset_partition_keys
        label += f" partition {keys[0]}" if len(keys) == 1 else f" partitions {keys[0]}…{keys[-1]}"
    return label


def _validate_contract(context, table_slice: TableSlice, connection) -> None:
    if isinstance(context.dagster_type, WarehouseContractType):
        # Inside the write transaction: a violation rolls the new rows back before commit.
        context.dagster_type.validate_stored_slice(
            connection, DuckDbClient.get_select_statement(table_slice), output=_output_label(context)
        )


def create_table_sql(table: str, columns: Mapping[str, str]) -> str:
    """``create or replace table`` with the declared ``columns`` (name: DuckDB type) in order."""
    declared = ", ".join(
        f'"{validate_identifier(name, role="column")}" {dtype}' for name, dtype in columns.items()
    )
    return f"create or replace table {table} ({declared})"


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
        _validate_contract(context, table_slice, connection)
        return _output_metadata(context, table_slice, connection, written)

    def load_input(self, context, table_slice: TableSlice, connection) -> WarehouseQuery:
        return WarehouseQuery(DuckDbClient.get_select_statement(table_slice))

    @property
    def supported_types(self):
        return [WarehouseQuery]


def delete_stored_slice(table_slice: TableSlice, connection) -> None:
    """Delete the rows an output replaces (all of an unpartitioned table), if the table exists."""
    # Inside a transaction a failed DELETE on a missing table would abort it: look first.
    if warehouse.table_exists(connection, table_slice.schema, table_slice.table):
        connection.execute(_get_cleanup_statement(table_slice)).fetchall()


def replaces_its_own_slice(context) -> bool:
    """A WarehouseLoad output: its handler deletes the slice, once the load has read it."""
    output_type = context.dagster_type.typing_type
    return isinstance(output_type, type) and issubclass(output_type, WarehouseLoad)


class WarehouseLoadTypeHandler(DbTypeHandler[WarehouseLoad]):
    """Lets a WarehouseLoad read the slice it replaces, then insert into the table (created from
    its columns when it must be)."""

    def handle_output(self, context, table_slice: TableSlice, obj: WarehouseLoad, connection):
        target = table_name(table_slice)
        appends = _appends_to_stored_table(context, table_slice, connection, list(obj.columns))
        if replaces_its_own_slice(context):  # else the IO manager has deleted the slice already
            if warehouse.table_exists(connection, table_slice.schema, table_slice.table):
                obj.before_replace(connection, DuckDbClient.get_select_statement(table_slice))
            delete_stored_slice(table_slice, connection)
        if not appends:
            connection.execute(create_table_sql(target, obj.columns)).fetchall()
        before = _scalar(connection, f"select count(*) from {target}")
        load_metadata = obj.insert(connection, target)
        written = _scalar(connection, f"select count(*) from {target}") - before
        _check_written(context, table_slice, connection, written)
        _validate_contract(context, table_slice, connection)
        return {**load_metadata, **_output_metadata(context, table_slice, connection, written)}

    def load_input(self, context, table_slice: TableSlice, connection) -> WarehouseQuery:
        return WarehouseQuery(DuckDbClient.get_select_statement(table_slice))

    @property
    def supported_types(self):
        return [WarehouseLoad]
