"""Group "marts": analytics tables, one row per stated grain, built from staging.

Aggregation runs inside DuckDB; only the small result becomes a DataFrame, which the IO manager
stores (and which later steps, like the report, load back). pandas and numpy are imported by the
steps that use them, not when the code location loads.
"""

from typing import TYPE_CHECKING

import dagster as dg

from pipeline.automation.conditions import TRANSIENT_FAILURE_RETRY, refresh_with_landed_months
from pipeline.defs.marts import tables
from pipeline.defs.staging import tables as staging
from pipeline.warehouse.connection import read_sql
from pipeline.warehouse.contracts import DataFrameContractType
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.tables import Table

if TYPE_CHECKING:
    import pandas as pd


def query_mart_sql(warehouse: Warehouse, name: str, params: dict | None = None) -> "pd.DataFrame":
    with warehouse.connect() as conn:
        return conn.execute(read_sql("marts", name), params or {}).fetchdf()


def _sql_mart(table: Table, deps: list[Table]) -> dg.AssetsDefinition:
    """``marts/<table>`` computed by ``<table>.sql`` in DuckDB and stored as a DataFrame."""

    @dg.asset(
        **table.asset_properties(),
        kinds={"duckdb", "pandas"},
        deps=[dep.asset_key for dep in deps],
        dagster_type=DataFrameContractType(table),
        automation_condition=refresh_with_landed_months(),
        retry_policy=TRANSIENT_FAILURE_RETRY,
    )
    def sql_mart(context: dg.AssetExecutionContext, warehouse: Warehouse):
        context.add_output_metadata(table.lineage_metadata(read_sql("marts", table.name), deps))
        return query_mart_sql(warehouse, table.name)

    return sql_mart


carrier_monthly_performance = _sql_mart(
    tables.CARRIER_MONTHLY_PERFORMANCE, [staging.FLIGHTS, staging.AIRLINES]
)
route_performance = _sql_mart(tables.ROUTE_PERFORMANCE, [staging.FLIGHTS, staging.AIRPORTS])
weather_impact = _sql_mart(tables.WEATHER_IMPACT, [staging.FLIGHTS, staging.WEATHER])
fleet_performance = _sql_mart(tables.FLEET_PERFORMANCE, [staging.FLIGHTS, staging.PLANES])
