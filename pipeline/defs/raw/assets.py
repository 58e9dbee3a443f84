"""Group "raw": landed source files loaded as they arrived, typed, with their lineage.

``raw_asset`` builds the asset of each raw table folder (``raw/<table>/defs.yaml``, through the
WarehouseTable component).

Monthly files (flights, weather) load one partition per month; the dimensions load whole. The
asset receives the files (``pipeline.landing.load``: each copied aside while it is hashed) and hands
them to the IO manager, which replaces the slice in one transaction: there each file is parsed once
by DuckDB on the warehouse's connection (no pandas), checked (``pipeline.landing.ingest``) and
inserted. A bad file is quarantined and the run fails naming the file, line, column and value; the
volume guard (``pipeline.landing.guard``: a delivery much smaller than what it replaces, or a
dimension that would orphan keys the stored flights use) and the completeness rule
(``pipeline.landing.coverage``, declared in the table folder's ``coverage``: a month without a day of flights from
an airport, or more hours without weather than the source ever lacked) hold a delivery unless it is
accepted on purpose. Either way the transaction rolls back; otherwise the copies are archived and it commits.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import dagster as dg
from pydantic import Field

from pipeline.landing import guard
from pipeline.landing.coverage import MonthCoverage
from pipeline.landing.landed_tables import monthly_file_name, whole_file_name
from pipeline.landing.load import LandedFiles, LandingRequest, RejectedLandingFiles, receive
from pipeline.landing.resources import LandingZone
from pipeline.partitions import monthly_partitions
from pipeline.warehouse.connection import sql_code_reference
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.tables import MONTHLY, Table

LOCAL_DATE_EXPR = "make_date(year, month, day)"
USER_TAGS = ("dagster/user", "user", "dagster/from_ui")


class RawLoadConfig(dg.Config):
    """The volume guard's thresholds, and the operator's acceptance of a change it (or the
    completeness rule) would hold."""

    accept_volume_change: str | None = Field(
        default=None,
        description="Load even if the volume guard or the completeness rule would hold the delivery; "
        "the reason is recorded in the materialization's metadata. The run tag "
        f"{guard.ACCEPT_TAG}=<reason> does the same.",
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


def _stored(warehouse: Warehouse, table: Table, *, monthly: bool) -> guard.Stored:
    """What the table holds before the load, for the volume guard."""
    if not warehouse.database.exists():
        return guard.read_stored(None, table, monthly=monthly)
    with warehouse.connect(read_only=True) as conn:
        return guard.read_stored(conn, table, monthly=monthly)


def _guard(
    context: dg.AssetExecutionContext, table: Table, stored: guard.Stored, config: RawLoadConfig
) -> Callable[[list[guard.Delivery]], Mapping[str, Any]]:
    """The volume guard as the load calls it: raises to hold, else returns what it found."""
    settings = guard.GuardSettings(config.max_drop_share, config.min_share_of_typical_month)
    accepted = _acceptance(context, config)

    def check(deliveries: list[guard.Delivery]) -> Mapping[str, Any]:
        assessment = guard.assess(stored, table, deliveries, settings)
        holds = assessment.all_holds
        if holds and accepted is None:
            raise guard.HeldDeliveries(assessment)
        if holds:
            context.log.warning(
                "The volume guard or the completeness rule would hold this load; accepted "
                f"({accepted['via']}: {accepted['reason']!r}):\n" + "\n".join(holds)
            )
        return (
            {"volume_guard": assessment.files}
            | ({"month_coverage": assessment.coverage} if assessment.coverage else {})
            | ({"volume_change_accepted": accepted} if holds else {})
        )

    return check


@dataclass
class RawTableLoad(LandedFiles):
    """The load as a Dagster output: its findings as metadata, a rejection or hold as a Failure."""

    def insert(self, connection, table: str) -> Mapping[str, Any]:
        try:
            found = super().insert(connection, table)
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
                metadata={
                    "volume_guard": dg.MetadataValue.json(error.assessment.files),
                    "month_coverage": dg.MetadataValue.json(error.assessment.coverage),
                },
                allow_retries=False,
            ) from error
        return {
            name: value if isinstance(value, (dg.MetadataValue, int)) else dg.MetadataValue.json(value)
            for name, value in found.items()
        }


def raw_asset(table: Table, coverage: MonthCoverage | None = None) -> dg.AssetsDefinition:
    """``raw/<table>``: one partition per month's file, or the whole dimension file; a month's file
    must cover the month as ``coverage`` says."""
    monthly = table.lands == MONTHLY

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
    ) -> RawTableLoad:
        if monthly:
            requests = [
                LandingRequest(table.name, monthly_file_name(table.name, key), date.fromisoformat(key))
                for key in context.partition_keys
            ]
        else:
            requests = [LandingRequest(table.name, whole_file_name(table.name))]
        stored = _stored(warehouse, table, monthly=monthly)
        files = receive(landing_zone, requests)
        context.log.info(f"Received {len(files)} file(s): {', '.join(file.landed.name for file in files)}")
        return RawTableLoad(
            table,
            files,
            landing_zone,
            context.run.run_id,
            guard=_guard(context, table, stored, config),
            coverage=coverage,
        )

    return raw_table
