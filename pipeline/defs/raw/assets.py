"""Group "raw": landed source files loaded as they arrived, typed, with their lineage.

Monthly files (flights, weather) load one partition per month; the dimensions load whole. Each file
is validated first (``pipeline.landing.ingest``): a bad one is quarantined and the run fails naming
the file, line, column and value. A good one passes the volume guard (``pipeline.landing.guard``:
a delivery much smaller than what it replaces, or a dimension that would orphan keys the stored
flights use, is held unless accepted on purpose), is archived, and DuckDB reads the archived copy
straight into the warehouse (no pandas): the IO manager replaces the slice in one transaction.
"""

from collections.abc import Callable, Sequence
from datetime import date

import dagster as dg
from pydantic import Field

from pipeline.defs.raw import tables
from pipeline.landing import guard
from pipeline.landing.ingest import LandingRequest, RejectedLandingFiles, accept_landed_files
from pipeline.landing.names import dimension_file_name, monthly_file_name
from pipeline.landing.resources import LandingZone
from pipeline.partitions import monthly_partitions
from pipeline.warehouse.connection import read_sql, sql_code_reference
from pipeline.warehouse.outputs import WarehouseQuery
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.tables import Table

LOCAL_DATE_EXPR = "make_date(year, month, day)"
USER_TAGS = ("dagster/user", "user", "dagster/from_ui")


class RawLoadConfig(dg.Config):
    """The volume guard's thresholds, and the operator's acceptance of a change it would hold."""

    accept_volume_change: str | None = Field(
        default=None,
        description="Load even if the volume guard would hold the delivery; the reason is recorded "
        f"in the materialization's metadata. The run tag {guard.ACCEPT_TAG}=<reason> does the same.",
    )
    max_drop_share: float = Field(
        default=guard.GuardSettings.max_drop_share,
        description="Largest share of the rows it replaces that a delivery may drop (0.2: hold a "
        "month or dimension that comes back with less than 80% of its stored rows).",
    )
    min_share_of_typical_month: float = Field(
        default=guard.GuardSettings.min_share_of_typical_month,
        description="Hold a month with fewer rows than this share of the median of the other months.",
    )


def _acceptance(context: dg.AssetExecutionContext, config: RawLoadConfig) -> dict[str, str] | None:
    """Who accepted a held change, why and how, from the config or the run tag; None if nobody did."""
    tags = context.run.tags
    if config.accept_volume_change:
        reason, via = config.accept_volume_change, "run config accept_volume_change"
    elif tags.get(guard.ACCEPT_TAG):
        reason, via = tags[guard.ACCEPT_TAG], f"run tag {guard.ACCEPT_TAG}"
    else:
        return None
    who = {tag: tags[tag] for tag in USER_TAGS if tag in tags}
    return {"reason": reason, "via": via, "run_id": context.run.run_id, **who}


def _guard(
    context: dg.AssetExecutionContext, table: Table, warehouse: Warehouse, config: RawLoadConfig
) -> tuple[Callable[[list[guard.Delivery]], None], guard.Assessment, dict[str, str] | None]:
    """The guard as ``accept_landed_files`` calls it, what it found (filled in when it runs), and
    the operator's acceptance."""
    settings = guard.GuardSettings(config.max_drop_share, config.min_share_of_typical_month)
    accepted = _acceptance(context, config)
    found = guard.Assessment()

    def check(deliveries: list[guard.Delivery]) -> None:
        if warehouse.database.exists():
            with warehouse.connect(read_only=True) as conn:
                assessment = guard.assess(conn, table, deliveries, settings)
        else:
            assessment = guard.assess(None, table, deliveries, settings)
        found.files[:], found.holds[:] = assessment.files, assessment.holds
        if assessment.holds and accepted is None:
            raise guard.HeldDeliveries(assessment)
        if assessment.holds:
            context.log.warning(
                "The volume guard would hold this load; accepted "
                f"({accepted['via']}: {accepted['reason']!r}):\n" + "\n".join(assessment.holds)
            )

    return check, found, accepted


def _accepted_paths(
    context: dg.AssetExecutionContext,
    landing_zone: LandingZone,
    warehouse: Warehouse,
    config: RawLoadConfig,
    table: Table,
    requests: Sequence[LandingRequest],
) -> list[str]:
    """Validate, guard and archive the files; their archived copies, or a Failure naming what was wrong."""
    check, found, accepted = _guard(context, table, warehouse, config)
    try:
        accepted_files = accept_landed_files(landing_zone, requests, context.run.run_id, guard=check)
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
    except guard.HeldDeliveries as error:
        raise dg.Failure(
            description=str(error),
            metadata={"volume_guard": dg.MetadataValue.json(error.assessment.files)},
            allow_retries=False,
        ) from error
    context.add_output_metadata(
        {
            "source_files": dg.MetadataValue.json(
                [
                    {"file": file.path.name, "sha256": file.sha256, "archived_copy": str(file.path)}
                    for file in accepted_files
                ]
            ),
            "volume_guard": dg.MetadataValue.json(found.files),
        }
        | ({"volume_change_accepted": dg.MetadataValue.json(accepted)} if found.holds and accepted else {})
    )
    context.log.info(
        f"Loading {len(accepted_files)} file(s): {', '.join(str(f.path) for f in accepted_files)}"
    )
    return [str(file.path) for file in accepted_files]


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
    def raw_table(
        context: dg.AssetExecutionContext,
        config: RawLoadConfig,
        landing_zone: LandingZone,
        warehouse: Warehouse,
    ) -> WarehouseQuery:
        if monthly:
            requests = [
                LandingRequest(table.name, monthly_file_name(table.name, key), date.fromisoformat(key))
                for key in context.partition_keys
            ]
        else:
            requests = [LandingRequest(table.name, dimension_file_name(table.name))]
        paths = _accepted_paths(context, landing_zone, warehouse, config, table, requests)
        return WarehouseQuery(read_sql("raw", "landed_file"), {"path": paths, "columns": table.csv_columns()})

    return raw_table


raw_flights = _raw_asset(tables.FLIGHTS, monthly=True)
raw_weather = _raw_asset(tables.WEATHER, monthly=True)
raw_airlines = _raw_asset(tables.AIRLINES, monthly=False)
raw_airports = _raw_asset(tables.AIRPORTS, monthly=False)
raw_planes = _raw_asset(tables.PLANES, monthly=False)
