"""Checks of staging/flights against the dimensions it joins to: carriers, airports and planes."""

from collections.abc import Callable

import dagster as dg
from pydantic import Field

from pipeline.defs.declarations import declared_table
from pipeline.defs.staging import tables
from pipeline.warehouse.checks import SampleConfig, check_rows, result, table_check
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.tables import Table


class UnknownTailnumConfig(SampleConfig):
    max_unknown_share: float = Field(
        default=0.2,
        description="Largest share of flights whose tail number is not in planes (15% in 2013: "
        "the FAA registry the planes come from lacks some fleets).",
    )


def _known_reference_check(
    name: str,
    reference: Table,
    description: str,
    *,
    all_known: str,
    some_unknown: str,
    label: Callable[[dict], str],
) -> dg.AssetChecksDefinition:
    """ERROR, blocking: every flight's value is in ``reference``; ``checks/<name>.sql`` lists the
    unknown ones with their ``flights``, and ``label`` names one in the description."""

    @table_check(tables.FLIGHTS, name, description, reads=[reference])
    def known_reference(config: SampleConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
        unknown = check_rows(warehouse, "staging", name)
        failing = sum(row["flights"] for row in unknown)
        return result(
            passed=not unknown,
            description=(
                all_known
                if not unknown
                else f"{failing:,} {some_unknown}: " + ", ".join(label(row) for row in unknown) + "."
            ),
            failing_rows=failing,
            sample=unknown[: config.sample_size],
        )

    return known_reference


carrier_in_airlines = _known_reference_check(
    "carrier_in_airlines",
    declared_table("staging", "airlines"),
    "ERROR, blocking: every flight's carrier is in staging/airlines. A carrier without a name "
    "would reach the carrier marts and the report unnamed.",
    all_known="Every flight's carrier is in staging.airlines.",
    some_unknown="flights have a carrier missing from staging.airlines",
    label=lambda row: f"{row['carrier']} ({row['flights']:,})",
)

airports_known = _known_reference_check(
    "airports_known",
    declared_table("staging", "airports"),
    "ERROR, blocking: every origin and destination is in staging/airports (source or reference "
    "supplement). An unknown airport has no time zone or name for the route marts. Codes only the "
    "supplement knows are reported by airports_from_reference_supplement (WARN) instead.",
    all_known="Every origin and destination is in staging.airports.",
    some_unknown="flight ends use airports missing from staging.airports",
    label=lambda row: f"{row['role']} {row['code']} ({row['flights']:,})",
)


@table_check(
    tables.FLIGHTS,
    "airports_from_reference_supplement",
    "WARN, not blocking: airports that flights use but the airports source lacks, known only "
    "from the reference supplement shipped with the code (Puerto Rico and US Virgin Islands in "
    "2013). The data is right; the finding is for upstream, and must not hold the marts back.",
    reads=[declared_table("staging", "airports")],
)
def airports_from_reference_supplement(warehouse: Warehouse) -> dg.AssetCheckResult:
    supplemented = check_rows(warehouse, "staging", "airports_only_in_supplement")
    failing = sum(row["flights"] for row in supplemented)
    return result(
        passed=not supplemented,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            "Every airport flights use comes from the airports source."
            if not supplemented
            else f"{', '.join(row['faa'] for row in supplemented)} ({failing:,} flights) are known only "
            "from the reference supplement, not the airports source."
        ),
        failing_rows=failing,
        sample=supplemented,
        codes=dg.MetadataValue.json([row["faa"] for row in supplemented]),
    )


@table_check(
    tables.FLIGHTS,
    "tailnum_in_planes",
    "WARN, not blocking: the share of flights whose tail number is missing from staging/planes "
    "stays under max_unknown_share. Such flights stay in the fleet mart as 'unknown'; a jump "
    "means the planes file lost fleets, worth a look but not a wrong number.",
    reads=[declared_table("staging", "planes")],
)
def tailnum_in_planes(config: UnknownTailnumConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
    [found] = check_rows(warehouse, "staging", "unknown_tail_numbers", {"sample_size": config.sample_size})
    total, unknown = found["flights_with_tailnum"], found["unknown_flights"]
    share = unknown / total if total else 0.0
    passed = share <= config.max_unknown_share
    return result(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{unknown:,} of {total:,} flights ({share:.1%}) have a tail number missing from "
        f"staging.planes; the limit is {config.max_unknown_share:.1%}.",
        failing_rows=int(unknown) if not passed else 0,
        sample=found["sample"] or [],
        unknown_share=float(share),
        flights_with_unknown_tailnum=int(unknown),
    )


reference_checks = [
    carrier_in_airlines,
    airports_known,
    airports_from_reference_supplement,
    tailnum_in_planes,
]
