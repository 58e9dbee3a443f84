"""Checks on the marts: each adds up to staging/flights, and the model covers every origin.

A mart folder declares its reconciliation (``reconciliation`` in ``marts/<table>/defs.yaml``, the
query in ``reconciles_with_staging.sql`` beside it); the WarehouseTable component builds it.

The reconciliations are blocking and compare a mart with staging: they run inside the transaction
that publishes the mart (pipeline/warehouse/publish.py), on the new version and the snapshot of
staging it was built from, so another run's commit cannot make them fail on correct data. Run
alone (from the UI, on the stored mart) they read the warehouse as it is and say which version of
the mart they read. The model's coverage is not blocking and runs after the model is published.
"""

from dataclasses import dataclass
from typing import Any

import dagster as dg
import duckdb
from pydantic import Field

from pipeline.defs.marts import tables
from pipeline.defs.rules import WEATHER_FACTORS
from pipeline.defs.staging.tables import FLIGHTS as STAGING_FLIGHTS
from pipeline.warehouse.checks import SampleConfig, check_spec, result, rows, table_check, version_read
from pipeline.warehouse.connection import read_sql
from pipeline.warehouse.publish import Audit
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.tables import Table

RECONCILES_WITH_STAGING = "reconciles_with_staging"
RECONCILIATION_DESCRIPTION = (
    "ERROR, blocking: the mart's flights add up to staging/flights {grain}, checked on the new version "
    "before it is published. A gap means the mart was built from other data than staging holds; "
    "the new version is not published and the report is not refreshed."
)


class ReconciliationConfig(SampleConfig):
    tolerance_flights: int = Field(default=0, description="Allowed difference in flights per group.")


def _reconciliation_result(mismatches: list[dict[str, Any]], mart: str, grain: str, sample_size: int):
    return result(
        passed=not mismatches,
        description=(
            f"{mart} adds up to staging.flights per {grain}."
            if not mismatches
            else f"{mart} differs from staging.flights for {len(mismatches):,} {grain}(s), e.g. "
            + "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in mismatches[:3])
            + "."
        ),
        failing_rows=len(mismatches),
        sample=mismatches[:sample_size],
        check_name=RECONCILES_WITH_STAGING,
    )


@dataclass(frozen=True)
class Reconciliation:
    """``reconciles_with_staging`` of a mart: ``sql`` (the folder's ``reconciles_with_staging.sql``)
    lists each ``grain`` whose flights differ from staging's by more than the tolerance."""

    table: Table
    grain: str
    described_grain: str
    sql: str

    @property
    def spec(self) -> dg.AssetCheckSpec:
        return check_spec(
            self.table,
            RECONCILES_WITH_STAGING,
            RECONCILIATION_DESCRIPTION.format(grain=self.described_grain),
            reads=[STAGING_FLIGHTS],
        )

    def evaluate(self, conn: duckdb.DuckDBPyConnection, config: ReconciliationConfig) -> dg.AssetCheckResult:
        mismatches = rows(conn, self.sql, {"tolerance": config.tolerance_flights})
        return _reconciliation_result(mismatches, self.table.qualified_name, self.grain, config.sample_size)

    def audit(self, config: ReconciliationConfig) -> Audit:
        """The check as run on the new version, inside the publishing transaction."""
        return Audit(self.spec, lambda conn: self.evaluate(conn, config))


@table_check(
    tables.WEATHER_DELAY_MODEL,
    "covers_every_origin",
    "ERROR, not blocking (nothing is downstream): the model has a row for every NYC origin in "
    "staging/flights and every weather factor, fitted on no more flights than departed from "
    "that origin with a reported delay. Otherwise the model describes other data than staging holds.",
    reads=[STAGING_FLIGHTS],
)
def weather_delay_model_covers_origins(
    context: dg.AssetCheckExecutionContext, config: SampleConfig, warehouse: Warehouse
) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as conn:
        problems = rows(
            conn, read_sql("marts", "checks/weather_delay_model_coverage"), {"factors": list(WEATHER_FACTORS)}
        )
        read = version_read(conn, context.instance, tables.WEATHER_DELAY_MODEL)
    return result(
        passed=not problems,
        description=(
            "marts.weather_delay_model covers every origin and factor within staging's flights."
            if not problems
            else f"marts.weather_delay_model: {len(problems)} origin/factor pair(s) wrong, e.g. "
            + "; ".join(f"{row['origin']} {row['factor']}: {row['problem']}" for row in problems[:3])
            + "."
        ),
        failing_rows=len(problems),
        sample=problems[: config.sample_size],
        **read,
    )


asset_checks = [weather_delay_model_covers_origins]
