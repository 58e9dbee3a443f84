"""Group "marts": analytics tables, one row per stated grain, built from staging.

Aggregation runs inside DuckDB; only the small result becomes a DataFrame, which the IO manager
stores (and which later steps, like the report, load back).
"""


import dagster as dg
import pandas as pd

from pipeline import constants, contracts
from pipeline.assets import staging
from pipeline.resources import Warehouse
from pipeline.warehouse import read_sql

MARTS = [constants.MARTS_SCHEMA]


def _query(warehouse: Warehouse, name: str) -> pd.DataFrame:
    with warehouse.connect() as conn:
        return conn.execute(read_sql("marts", name)).fetchdf()


@dg.asset(
    key_prefix=MARTS,
    group_name="marts",
    kinds={"duckdb", "pandas"},
    deps=[staging.flights, staging.airlines],
    dagster_type=contracts.MartsCarrierMonthlyPerformance,
)
def carrier_monthly_performance(warehouse: Warehouse) -> pd.DataFrame:
    """One row per carrier and month: flights, cancellations, delays and on-time share."""
    return _query(warehouse, "carrier_monthly_performance")


@dg.asset(
    key_prefix=MARTS,
    group_name="marts",
    kinds={"duckdb", "pandas"},
    deps=[staging.flights, staging.airports],
    dagster_type=contracts.MartsRoutePerformance,
)
def route_performance(warehouse: Warehouse) -> pd.DataFrame:
    """One row per origin → destination route: distance, flights, delays and on-time share."""
    return _query(warehouse, "route_performance")


@dg.asset(
    key_prefix=MARTS,
    group_name="marts",
    kinds={"duckdb", "pandas"},
    deps=[staging.flights, staging.weather],
    dagster_type=contracts.MartsWeatherImpact,
)
def weather_impact(warehouse: Warehouse) -> pd.DataFrame:
    """One row per weather factor and bin: departure delays under precipitation, visibility, wind."""
    return _query(warehouse, "weather_impact")


@dg.asset(
    key_prefix=MARTS,
    group_name="marts",
    kinds={"duckdb", "pandas"},
    deps=[staging.flights, staging.planes],
    dagster_type=contracts.MartsFleetPerformance,
)
def fleet_performance(warehouse: Warehouse) -> pd.DataFrame:
    """One row per manufacturer and plane-age band: flights, planes and delays."""
    return _query(warehouse, "fleet_performance")
