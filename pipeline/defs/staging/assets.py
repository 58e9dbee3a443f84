"""Group "staging": the raw tables typed, cleaned and deduplicated, ready to model.

Every transform is a SELECT beside this module (``<table>.sql``, or ``<table>/<table>.sql`` in a
table folder) that DuckDB runs into the table; monthly tables rebuild only the months of the run.
The table's declaration (the folder's ``defs.yaml``, or ``tables.py``) gives the asset its
description, column schema and contract; the tables its SQL reads, its deps. ``staging_asset``
builds the assets declared here and, through the WarehouseTable component, the folders'.
"""

from datetime import timedelta
from pathlib import Path

import dagster as dg

from pipeline.automation.conditions import eager_every_partition
from pipeline.defs.asset_sql import sql_file
from pipeline.defs.declarations import folder_tables
from pipeline.defs.staging import tables
from pipeline.defs.staging.time_zones import ZONEINFO_OFFSET_PERIODS
from pipeline.partitions import monthly_partitions
from pipeline.warehouse.connection import read_sql
from pipeline.warehouse.contracts import WarehouseTableType
from pipeline.warehouse.outputs import WarehouseQuery
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.tables import Table

# The reference file staging/airports reads (its folder's file_params); raw's airports check reads it too.
AIRPORT_TIMEZONE_SUPPLEMENT = Path(folder_tables()["staging.airports"].sql_params["supplement_path"])
# The local dates staging/time_zone_offsets covers: every partition's, plus the day after the last,
# which a scheduled arrival at 24:00 (hhmm 2400) on the last day reads.
OFFSETS_RANGE = {
    "range_start": monthly_partitions.start.date(),
    "range_end": monthly_partitions.end.date() + timedelta(days=1),
}
AGREES_WITH_DUCKDB = "time_zone_offsets_agree_with_duckdb"


def staging_asset(
    table: Table,
    *,
    sql_name: str | None = None,
    partition_expr: str | None = None,
    params: dict | None = None,
) -> dg.AssetsDefinition:
    """``staging/<table>`` built by ``<sql_name or table>.sql``; monthly when ``partition_expr`` is given."""
    partitioned = partition_expr is not None
    sql_name = sql_name or table.name
    transform = sql_file("staging", sql_name)

    @dg.asset(
        **table.asset_properties(sql_name, **({"partition_expr": partition_expr} if partitioned else {})),
        kinds={"duckdb", "sql"},
        deps=transform.deps,
        partitions_def=monthly_partitions if partitioned else None,
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
        dagster_type=WarehouseTableType(table),
        automation_condition=eager_every_partition(),
    )
    def staging_table(context: dg.AssetExecutionContext) -> WarehouseQuery:
        window = {}
        if partitioned:
            time_window = context.partition_time_window
            window = {"window_start": time_window.start.date(), "window_end": time_window.end.date()}
        context.add_output_metadata(table.lineage_metadata(transform.sql, transform.reads))
        return WarehouseQuery(transform.sql, {**(params or {}), **window})

    return staging_table


TIME_ZONE_OFFSETS_SQL = sql_file("staging", tables.TIME_ZONE_OFFSETS.name)


@dg.multi_asset(
    name="staging__time_zone_offsets",
    outs={
        tables.TIME_ZONE_OFFSETS.name: dg.AssetOut(
            **tables.TIME_ZONE_OFFSETS.asset_properties(),
            kinds={"duckdb", "sql", "python"},
            dagster_type=WarehouseTableType(tables.TIME_ZONE_OFFSETS),
            automation_condition=eager_every_partition(),
        )
    },
    deps=TIME_ZONE_OFFSETS_SQL.deps,
    can_subset=True,  # the table without its check, or the check alone on the stored table
    check_specs=[
        dg.AssetCheckSpec(
            AGREES_WITH_DUCKDB,
            asset=tables.TIME_ZONE_OFFSETS.asset_key,
            blocking=True,
            description=(
                "ERROR, blocking: at the first and the last minute of every hour, the local time minus "
                "the stored offset is the instant DuckDB's timezone() gives (what staging/flights relied "
                "on before it joined this table)."
            ),
        )
    ],
)
def time_zone_offsets(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Built by ``time_zone_offsets.sql`` calling zoneinfo (``time_zones.py``); then its check."""
    table = tables.TIME_ZONE_OFFSETS
    if table.asset_key in context.selected_asset_keys:
        yield dg.Output(
            WarehouseQuery(TIME_ZONE_OFFSETS_SQL.sql, OFFSETS_RANGE, functions=(ZONEINFO_OFFSET_PERIODS,)),
            output_name=table.name,
            metadata=table.lineage_metadata(TIME_ZONE_OFFSETS_SQL.sql, TIME_ZONE_OFFSETS_SQL.reads),
        )
    if not any(key.name == AGREES_WITH_DUCKDB for key in context.selected_asset_check_keys):
        return
    # An Output is stored (and committed) by the IO manager before this generator resumes.
    with warehouse.connect() as conn:
        failing, sample = conn.execute(
            read_sql("staging", f"checks/{AGREES_WITH_DUCKDB}"), {"sample_size": 10}
        ).fetchone()
    yield dg.AssetCheckResult(
        check_name=AGREES_WITH_DUCKDB,
        passed=failing == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            "Every hour's offset gives DuckDB's timezone() instants."
            if failing == 0
            else f"{failing:,} hours give other instants than DuckDB's timezone()."
        ),
        metadata={
            "failing_rows": int(failing),
            "sample": dg.MetadataValue.json([{k: str(v) for k, v in row.items()} for row in sample or []]),
        },
    )
