"""Group "raw": landed source files loaded as they arrived, typed, with their lineage.

Monthly files (flights, weather) load one partition per month; the dimensions load whole. DuckDB
reads each file straight into the warehouse (no pandas): the IO manager replaces the slice in one
transaction, so a file that fails to parse leaves the stored month as it was.
"""

import dagster as dg

from pipeline import constants
from pipeline.io_manager import WarehouseQuery
from pipeline.landing import dimension_file_name, monthly_file_name
from pipeline.partitions import monthly_partitions
from pipeline.resources import LandingZone
from pipeline.warehouse import read_sql

LOCAL_DATE_EXPR = "make_date(year, month, day)"

DESCRIPTIONS = {
    "flights": "Landed flights departing NYC, one partition per month as upstream delivered it.",
    "weather": "Landed hourly weather at EWR, JFK and LGA, one partition per month.",
    "airlines": "Landed airlines file: carrier code and name.",
    "airports": "Landed airports file: FAA code, position and time zone.",
    "planes": "Landed planes file: tail number, build year, manufacturer and model.",
}


class MissingLandingFile(FileNotFoundError):
    """A file the asset needs has not landed."""


def _landed_file(landing_zone: LandingZone, file_name: str):
    path = landing_zone.root / file_name
    if not path.is_file():
        raise MissingLandingFile(
            f"Expected landing file {path} does not exist; upstream has not delivered it yet."
        )
    return path


def _monthly_raw_asset(table: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=table,
        key_prefix=[constants.RAW_SCHEMA],
        group_name="raw",
        description=DESCRIPTIONS[table],
        kinds={"duckdb", "csv"},
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        metadata={"partition_expr": LOCAL_DATE_EXPR},
    )
    def monthly_raw(context: dg.AssetExecutionContext, landing_zone: LandingZone) -> WarehouseQuery:
        paths = [
            str(_landed_file(landing_zone, monthly_file_name(table, key)))
            for key in context.partition_keys
        ]
        context.log.info(f"Loading {len(paths)} file(s): {', '.join(paths)}")
        return WarehouseQuery(read_sql("raw", table), {"path": paths})

    return monthly_raw


def _dimension_raw_asset(table: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=table,
        key_prefix=[constants.RAW_SCHEMA],
        group_name="raw",
        description=DESCRIPTIONS[table],
        kinds={"duckdb", "csv"},
    )
    def dimension_raw(landing_zone: LandingZone) -> WarehouseQuery:
        path = _landed_file(landing_zone, dimension_file_name(table))
        return WarehouseQuery(read_sql("raw", table), {"path": str(path)})

    return dimension_raw


raw_flights = _monthly_raw_asset("flights")
raw_weather = _monthly_raw_asset("weather")
raw_airlines = _dimension_raw_asset("airlines")
raw_airports = _dimension_raw_asset("airports")
raw_planes = _dimension_raw_asset("planes")
