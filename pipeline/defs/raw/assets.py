"""Group "raw": landed source files loaded as they arrived, typed, with their lineage.

Monthly files (flights, weather) load one partition per month; the dimensions load whole. Each file
is validated first (``pipeline.ingest``): a bad one is quarantined and the run fails naming the
file, line and column. A good one is archived and DuckDB reads the archived copy straight into the
warehouse (no pandas): the IO manager replaces the slice in one transaction.
"""

from collections.abc import Sequence
from datetime import date

import dagster as dg

from pipeline.defs.raw import tables
from pipeline.landing.ingest import LandingRequest, RejectedLandingFiles, accept_landed_files
from pipeline.warehouse.io_manager import WarehouseQuery
from pipeline.warehouse.tables import Table
from pipeline.landing.names import dimension_file_name, monthly_file_name
from pipeline.partitions import monthly_partitions
from pipeline.warehouse.connection import read_sql, sql_code_reference
from pipeline.landing.resources import LandingZone

LOCAL_DATE_EXPR = "make_date(year, month, day)"

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


def _raw_asset(table: Table, *, monthly: bool) -> dg.AssetsDefinition:
    """``raw/<table>``: one partition per month's file, or the whole dimension file."""

    @dg.asset(
        key=table.asset_key,
        group_name="raw",
        description=table.description,
        kinds={"duckdb", "csv"},
        partitions_def=monthly_partitions if monthly else None,
        backfill_policy=dg.BackfillPolicy.single_run() if monthly else None,
        metadata={"dagster/column_schema": table.column_schema(), **sql_code_reference("raw", "landed_file")}
        | ({"partition_expr": LOCAL_DATE_EXPR} if monthly else {}),
    )
    def raw_table(context: dg.AssetExecutionContext, landing_zone: LandingZone) -> WarehouseQuery:
        if monthly:
            requests = [
                LandingRequest(table.name, monthly_file_name(table.name, key), date.fromisoformat(key))
                for key in context.partition_keys
            ]
        else:
            requests = [LandingRequest(table.name, dimension_file_name(table.name))]
        paths = _accepted_paths(context, landing_zone, requests)
        return WarehouseQuery(
            read_sql("raw", "landed_file"), {"path": paths, "columns": table.csv_columns()}
        )

    return raw_table


raw_flights = _raw_asset(tables.FLIGHTS, monthly=True)
raw_weather = _raw_asset(tables.WEATHER, monthly=True)
raw_airlines = _raw_asset(tables.AIRLINES, monthly=False)
raw_airports = _raw_asset(tables.AIRPORTS, monthly=False)
raw_planes = _raw_asset(tables.PLANES, monthly=False)
