"""Checks on the marts: each adds up to staging/flights, and the model covers every origin."""

from typing import Any

import dagster as dg
from pydantic import Field

from pipeline.defs.marts import tables
from pipeline.defs.rules import WEATHER_FACTORS
from pipeline.defs.staging.tables import FLIGHTS as STAGING_FLIGHTS
from pipeline.warehouse.checks import SampleConfig, check_rows, result, table_check
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.tables import Table

RECONCILIATION_DESCRIPTION = (
    "ERROR, blocking: the mart's flights add up to staging/flights {grain}. A gap means the mart "
    "was built from other data than staging now holds; the report must not publish it."
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
    )


def _reconciliation_check(table: Table, grain: str, described_grain: str) -> dg.AssetChecksDefinition:
    """``reconciles_with_staging``: ``checks/<table>_reconciliation.sql`` lists each ``grain`` whose
    flights differ from staging's by more than the tolerance."""

    @table_check(
        table,
        "reconciles_with_staging",
        RECONCILIATION_DESCRIPTION.format(grain=described_grain),
        reads=[STAGING_FLIGHTS],
    )
    def reconciles(config: ReconciliationConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
        mismatches = check_rows(
            warehouse, "marts", f"{table.name}_reconciliation", {"tolerance": config.tolerance_flights}
        )
        return _reconciliation_result(mismatches, table.qualified_name, grain, config.sample_size)

    return reconciles


@table_check(
    tables.WEATHER_DELAY_MODEL,
    "covers_every_origin",
    "ERROR, not blocking (nothing is downstream): the model has a row for every NYC origin in "
    "staging/flights and every weather factor, fitted on no more flights than departed from "
    "that origin with a reported delay. Otherwise the model describes other data than staging holds.",
    reads=[STAGING_FLIGHTS],
)
def weather_delay_model_covers_origins(config: SampleConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
    problems = check_rows(
        warehouse, "marts", "weather_delay_model_coverage", {"factors": list(WEATHER_FACTORS)}
    )
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
    )


asset_checks = [
    _reconciliation_check(
        tables.CARRIER_MONTHLY_PERFORMANCE,
        "carrier and month",
        "per carrier and month (flights and cancellations)",
    ),
    _reconciliation_check(tables.ROUTE_PERFORMANCE, "route", "per origin and destination"),
    # every flight appears once in each factor's bins
    _reconciliation_check(tables.WEATHER_IMPACT, "factor", "in total for each factor"),
    _reconciliation_check(tables.FLEET_PERFORMANCE, "total", "in total"),
    weather_delay_model_covers_origins,
]
