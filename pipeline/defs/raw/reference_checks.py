"""Checks of the raw dimensions against the flights that use them."""

import dagster as dg

from pipeline import constants
from pipeline.defs.declarations import declared_table
from pipeline.defs.raw import tables
from pipeline.defs.staging.assets import AIRPORT_TIMEZONE_SUPPLEMENT
from pipeline.warehouse.checks import SampleConfig, result, rows, table_check
from pipeline.warehouse.connection import read_sql, table_exists
from pipeline.warehouse.resources import Warehouse


@table_check(
    declared_table("raw", "airports"),
    "flight_airports_present",
    "ERROR for a code flights use that neither the airports file nor the reference supplement "
    "has (staging could not place those flights in time); WARN for codes only the supplement "
    "fills (BQN, PSE, SJU, STT in 2013): a known gap upstream should close, not a silent pass. "
    "Not blocking: staging/flights' own blocking check stops the marts on the ERROR case.",
    reads=[tables.FLIGHTS],
)
def raw_airports_cover_flights(config: SampleConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as connection:
        if not table_exists(connection, constants.RAW_SCHEMA, tables.FLIGHTS.name):
            # Dimensions land first on a fresh warehouse (the landing sensor loads them on its
            # own): with no flights yet there is nothing they could lack.
            return result(
                passed=True, description="No flights are loaded yet; nothing to cover.", failing_rows=0
            )
        missing = rows(
            connection,
            read_sql("raw", "checks/raw_airports_missing_for_flights"),
            {"supplement_path": str(AIRPORT_TIMEZONE_SUPPLEMENT)},
        )
    unresolved = [row for row in missing if not row["in_supplement"]]
    supplemented = [row for row in missing if row["in_supplement"]]
    if unresolved:
        description = (
            f"raw.airports lacks {len(unresolved)} airport(s) that flights use and the reference "
            f"supplement does not fill: {', '.join(row['faa'] for row in unresolved)}."
        )
    elif supplemented:
        description = (
            f"raw.airports lacks {', '.join(row['faa'] for row in supplemented)}, used by "
            f"{sum(row['flights'] for row in supplemented):,} flights; the reference supplement fills them."
        )
    else:
        description = "raw.airports has every airport that flights use."
    return result(
        passed=not missing,
        severity=dg.AssetCheckSeverity.ERROR if unresolved else dg.AssetCheckSeverity.WARN,
        description=description,
        failing_rows=sum(row["flights"] for row in missing),
        sample=missing[: config.sample_size],
        missing_codes=dg.MetadataValue.json([row["faa"] for row in missing]),
    )


reference_checks = [raw_airports_cover_flights]
