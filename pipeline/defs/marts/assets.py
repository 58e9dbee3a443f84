"""Group "marts": analytics tables, one row per stated grain, built from staging.

``sql_mart`` builds the asset of each mart folder (``marts/<table>/``, through the WarehouseTable
component); the weather delay model, fitted in Python, is ``weather_delay_model.py``.

Each mart is written, audited and published in one step and one transaction
(pipeline/warehouse/publish.py): ``<table>.sql`` runs inside DuckDB into a candidate, the candidate
must obey the table's declaration, replaces the mart, and the mart's blocking reconciliation with
staging runs on it before the commit — on the same snapshot of staging it was built from. A failing
reconciliation rolls back: the previous version stays and downstream steps do not run. The tables
``<table>.sql`` reads are the asset's deps.
"""

import dagster as dg

from pipeline.automation.conditions import TRANSIENT_FAILURE_RETRY, refresh_with_landed_months
from pipeline.defs.asset_sql import sql_file
from pipeline.defs.marts.checks import Reconciliation, ReconciliationConfig
from pipeline.warehouse.checks import version_read
from pipeline.warehouse.publish import PublishedTableType, candidate_from_query, publish
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.tables import Table


def sql_mart(table: Table, reconciliation: Reconciliation) -> dg.AssetsDefinition:
    """``marts/<table>`` built by its folder's ``<table>.sql`` and published with its reconciliation."""
    sql_name = f"{table.name}/{table.name}"
    transform = sql_file("marts", sql_name)

    @dg.multi_asset(
        name=f"{table.schema}__{table.name}",
        outs={
            table.name: dg.AssetOut(
                **table.asset_properties(sql_name),
                kinds={"duckdb", "sql"},
                dagster_type=PublishedTableType(table),
                automation_condition=refresh_with_landed_months(),
                # Not materialized when its blocking check fails: the previous version stays.
                is_required=False,
            )
        },
        deps=transform.deps,
        check_specs=[reconciliation.spec],
        can_subset=True,  # the mart with its check, or the check alone on the stored mart
        retry_policy=TRANSIENT_FAILURE_RETRY,
    )
    def sql_mart(context: dg.AssetExecutionContext, config: ReconciliationConfig, warehouse: Warehouse):
        if table.asset_key not in context.selected_asset_keys:
            with warehouse.connect(read_only=True) as conn:
                checked = reconciliation.evaluate(conn, config)
                read = version_read(conn, context.instance, table)
            yield checked.with_metadata({**checked.metadata, **read})
            return
        publication = publish(
            warehouse,
            table,
            candidate_from_query(transform.sql),
            [reconciliation.audit(config)],
            metadata=table.lineage_metadata(transform.sql, transform.reads),
        )
        if not publication.published:
            context.log.error(f"{table.qualified_name} was not published: its previous version stays.")
        yield from publication.events()

    return sql_mart
