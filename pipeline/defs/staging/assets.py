"""Group "staging": the raw tables typed, cleaned and deduplicated, ready to model.

Every transform is a SELECT beside this module (``<table>.sql``) that DuckDB runs into the table;
monthly tables rebuild only the months of the run. The table's declaration in ``tables.py`` gives
the asset its description, column schema and contract.
"""

from pathlib import Path

import dagster as dg

from pipeline.automation.conditions import eager_every_partition
from pipeline.defs.raw import tables as raw
from pipeline.defs.staging import tables
from pipeline.partitions import monthly_partitions
from pipeline.warehouse.connection import read_sql, sql_code_reference
from pipeline.warehouse.contracts import WarehouseTableType
from pipeline.warehouse.io_manager import WarehouseQuery
from pipeline.warehouse.tables import Table

AIRPORT_TIMEZONE_SUPPLEMENT = Path(__file__).parent / "reference" / "airport_timezone_supplement.csv"


def _staging_asset(
    table: Table, deps: list[Table], *, partition_expr: str | None = None, params: dict | None = None
) -> dg.AssetsDefinition:
    """``staging/<table>`` built by ``<table>.sql``; monthly when ``partition_expr`` is given."""
    partitioned = partition_expr is not None

    @dg.asset(
        key=table.asset_key,
        group_name="staging",
        description=table.description,
        kinds={"duckdb", "sql"},
        deps=[dep.asset_key for dep in deps],
        partitions_def=monthly_partitions if partitioned else None,
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
        metadata={"dagster/column_schema": table.column_schema(), **sql_code_reference("staging", table.name)}
        | ({"partition_expr": partition_expr} if partitioned else {}),
        dagster_type=WarehouseTableType(table),
        automation_condition=eager_every_partition(),
    )
    def staging_table(context: dg.AssetExecutionContext) -> WarehouseQuery:
        window = {}
        if partitioned:
            time_window = context.partition_time_window
            window = {"window_start": time_window.start.date(), "window_end": time_window.end.date()}
        sql = read_sql("staging", table.name)
        context.add_output_metadata({"dagster/column_lineage": table.column_lineage(sql, deps)})
        return WarehouseQuery(sql, {**(params or {}), **window})

    return staging_table


airports = _staging_asset(
    tables.AIRPORTS, [raw.AIRPORTS], params={"supplement_path": str(AIRPORT_TIMEZONE_SUPPLEMENT)}
)
airlines = _staging_asset(tables.AIRLINES, [raw.AIRLINES])
planes = _staging_asset(tables.PLANES, [raw.PLANES])
weather = _staging_asset(tables.WEATHER, [raw.WEATHER], partition_expr="observation_date")
flights = _staging_asset(tables.FLIGHTS, [raw.FLIGHTS, tables.AIRPORTS], partition_expr="flight_date")
