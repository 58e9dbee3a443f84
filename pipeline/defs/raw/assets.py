"""Group "raw": landed source files loaded as they arrived, typed, with their lineage.

Monthly files (flights, weather) load one partition per month; the dimensions load whole. Each file
is validated first (``pipeline.ingest``): a bad one is quarantined and the run fails naming the
file, line and column. A good one is archived and DuckDB reads the archived copy straight into the
warehouse (no pandas): the IO manager replaces the slice in one transaction.
"""

from collections.abc import Sequence
from datetime import date

import dagster as dg

from pipeline import constants
from pipeline.landing.ingest import LandingRequest, RejectedLandingFiles, accept_landed_files
from pipeline.warehouse.io_manager import WarehouseQuery
from pipeline.landing.names import dimension_file_name, monthly_file_name
from pipeline.partitions import monthly_partitions
from pipeline.landing.resources import LandingZone
from pipeline.warehouse.connection import read_sql

LOCAL_DATE_EXPR = "make_date(year, month, day)"

DESCRIPTIONS = {
    "flights": "Landed flights departing NYC, one partition per month as upstream delivered it.",
    "weather": "Landed hourly weather at EWR, JFK and LGA, one partition per month.",
    "airlines": "Landed airlines file: carrier code and name.",
    "airports": "Landed airports file: FAA code, position and time zone.",
    "planes": "Landed planes file: tail number, build year, manufacturer and model.",
}


def _accepted_paths(
    context: dg.AssetExecutionContext,
    landing_zone: LandingZone,
    requests: Sequence[LandingRequest],
) -> list[str]:
    """Validate and archive the files; their archived copies, or a Failure naming what was wrong."""
    try:
        accepted = accept_landed_files(landing_zone, requests, context.run.run_id)
    except RejectedLandingFiles as error:
        raise dg.Failure(
            description=str(error),
            metadata={
                "quarantined": dg.MetadataValue.json(
                    [str(rejection.quarantined.path) for rejection in error.rejections]
                ),
            },
            allow_retries=False,
        ) from error
    context.add_output_metadata(
        {
            "source_files": dg.MetadataValue.json(
                [
                    {"file": file.path.name, "sha256": file.sha256, "archived_copy": str(file.path)}
                    for file in accepted
                ]
            )
        }
    )
    context.log.info(f"Loading {len(accepted)} file(s): {', '.join(str(f.path) for f in accepted)}")
    return [str(file.path) for file in accepted]


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
        requests = [
            LandingRequest(table, monthly_file_name(table, key), date.fromisoformat(key))
            for key in context.partition_keys
        ]
        paths = _accepted_paths(context, landing_zone, requests)
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
    def dimension_raw(context: dg.AssetExecutionContext, landing_zone: LandingZone) -> WarehouseQuery:
        [path] = _accepted_paths(
            context, landing_zone, [LandingRequest(table, dimension_file_name(table))]
        )
        return WarehouseQuery(read_sql("raw", table), {"path": path})

    return dimension_raw


raw_flights = _monthly_raw_asset("flights")
raw_weather = _monthly_raw_asset("weather")
raw_airlines = _dimension_raw_asset("airlines")
raw_airports = _dimension_raw_asset("airports")
raw_planes = _dimension_raw_asset("planes")
