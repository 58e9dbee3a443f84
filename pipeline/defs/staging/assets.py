"""Group "staging": the raw tables typed, cleaned and deduplicated, ready to model.

Every transform is a SELECT in ``pipeline/defs/staging/`` that DuckDB runs into the table; monthly
tables rebuild only the months of the run.
"""

from pathlib import Path

import dagster as dg

from pipeline import constants
from pipeline.warehouse import contracts
from pipeline.defs.raw.assets import raw_airlines, raw_airports, raw_flights, raw_planes, raw_weather
from pipeline.automation.conditions import eager_every_partition
from pipeline.warehouse.io_manager import WarehouseQuery
from pipeline.partitions import monthly_partitions
from pipeline.warehouse.connection import read_sql

STAGING = [constants.STAGING_SCHEMA]
AIRPORT_TIMEZONE_SUPPLEMENT = Path(__file__).parent / "reference" / "airport_timezone_supplement.csv"


def _window_params(context: dg.AssetExecutionContext) -> dict[str, object]:
    window = context.partition_time_window
    return {"window_start": window.start.date(), "window_end": window.end.date()}


@dg.asset(
    key_prefix=STAGING,
    group_name="staging",
    kinds={"duckdb", "sql"},
    deps=[raw_airports],
    dagster_type=contracts.StagingAirports,
    automation_condition=eager_every_partition(),
)
def airports() -> WarehouseQuery:
    """One row per airport FAA code with its IANA time zone (source gaps filled from reference)."""
    return WarehouseQuery(
        read_sql("staging", "airports"), {"supplement_path": str(AIRPORT_TIMEZONE_SUPPLEMENT)}
    )


@dg.asset(
    key_prefix=STAGING,
    group_name="staging",
    kinds={"duckdb", "sql"},
    deps=[raw_airlines],
    dagster_type=contracts.StagingAirlines,
    automation_condition=eager_every_partition(),
)
def airlines() -> WarehouseQuery:
    """One row per carrier code with its airline name."""
    return WarehouseQuery(read_sql("staging", "airlines"))


@dg.asset(
    key_prefix=STAGING,
    group_name="staging",
    kinds={"duckdb", "sql"},
    deps=[raw_planes],
    dagster_type=contracts.StagingPlanes,
    automation_condition=eager_every_partition(),
)
def planes() -> WarehouseQuery:
    """One row per tail number with build year and a unified manufacturer name."""
    return WarehouseQuery(read_sql("staging", "planes"))


@dg.asset(
    key_prefix=STAGING,
    group_name="staging",
    kinds={"duckdb", "sql"},
    deps=[raw_weather],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    metadata={"partition_expr": "observation_date"},
    dagster_type=contracts.StagingWeather,
    automation_condition=eager_every_partition(),
)
def weather(context: dg.AssetExecutionContext) -> WarehouseQuery:
    """One row per origin airport and hour: typed weather observations with a UTC timestamp."""
    return WarehouseQuery(read_sql("staging", "weather"), _window_params(context))


@dg.asset(
    key_prefix=STAGING,
    group_name="staging",
    kinds={"duckdb", "sql"},
    deps=[raw_flights, airports],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    metadata={"partition_expr": "flight_date"},
    dagster_type=contracts.StagingFlights,
    automation_condition=eager_every_partition(),
)
def flights(context: dg.AssetExecutionContext) -> WarehouseQuery:
    """One row per scheduled flight: time-zone-aware times, integer delays, cancelled flag."""
    return WarehouseQuery(read_sql("staging", "flights"), _window_params(context))
