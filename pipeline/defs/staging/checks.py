"""Checks on the staging tables: keys, null rates, freshness and plausible readings.

The checks of flights against the dimensions (carriers, airports, planes) are in
``reference_checks.py``; ``asset_checks`` holds both.
"""

from datetime import date

import dagster as dg
from pydantic import Field

from pipeline.defs.raw.landed import LANDED_TABLES
from pipeline.defs.rules import MAX_PLAUSIBLE_WIND_MPH
from pipeline.defs.staging import tables
from pipeline.defs.staging.reference_checks import reference_checks
from pipeline.landing.resources import LandingZone
from pipeline.warehouse.checks import (
    NO_MONTH,
    SampleConfig,
    check_rows,
    check_sql,
    duplicate_keys_sql,
    duplicates_result,
    jsonable,
    result,
    rows,
    run_months,
    scope,
    table_check,
    table_columns,
)
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.tables import Table

# What identifies a flight; flight_identity_unique holds the whole table to it, across months.
FLIGHT_IDENTITY = ("carrier", "flight_number", "origin", "sched_dep_at")


class NullRateConfig(SampleConfig):
    max_null_share: dict[str, float] = Field(
        default_factory=lambda: {
            "tailnum": 0.05,
            "dep_delay_minutes": 0.15,
            "arr_delay_minutes": 0.15,
            "air_time_minutes": 0.15,
        },
        description="Largest share of nulls allowed per column in any month (cancelled flights "
        "have no delays; 2013's worst month, February, has 5.4%).",
    )


class FreshnessConfig(dg.Config):
    max_months_behind: int = Field(
        default=0, description="How many months the warehouse may trail the newest landed month."
    )


class WeatherPlausibilityConfig(SampleConfig):
    max_wind_speed_mph: float = Field(
        default=MAX_PLAUSIBLE_WIND_MPH, description="Sustained wind above this is a sensor error."
    )
    max_wind_gust_mph: float = Field(default=250.0, description="Gusts above this are a sensor error.")


def _key_unique_check(
    table: Table, key: tuple[str, ...], *, name: str, description: str, scope: str
) -> dg.AssetChecksDefinition:
    """ERROR, blocking: each ``key`` of the staging table appears once in the whole of it."""

    @table_check(table, name, description)
    def key_unique(config: SampleConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as connection:
            return duplicates_result(
                connection,
                duplicate_keys_sql(table=table.qualified_name, key=key, month_of_row=NO_MONTH),
                {"months": None, "sample_size": config.sample_size},
                table=table.qualified_name,
                key=key,
                scope=scope,
            )

    return key_unique


def dimension_key_check(table: Table, joined_by: str) -> dg.AssetChecksDefinition:
    [key] = table.key
    return _key_unique_check(
        table,
        (key,),
        name=f"{key}_unique",
        description=(
            f"ERROR, blocking: each {key} appears once. Flights join to this table by {key}; a "
            f"duplicate would multiply the flights in {joined_by}."
        ),
        scope="whole table",
    )


flight_identity_unique = _key_unique_check(
    tables.FLIGHTS,
    FLIGHT_IDENTITY,
    name="flight_identity_unique",
    description=(
        f"ERROR, blocking: each ({', '.join(FLIGHT_IDENTITY)}) appears once in the "
        "whole table, across months. A duplicate flight is counted twice in every mart."
    ),
    scope="all months",
)

observation_unique = _key_unique_check(
    tables.WEATHER,
    tables.WEATHER.key,
    name="observation_unique",
    description=(
        f"ERROR, blocking: each ({', '.join(tables.WEATHER.key)}) appears once across all months. A "
        "duplicate hour would double the flights joined to it in weather_impact."
    ),
    scope="all months",
)


@table_check(
    tables.FLIGHTS,
    "null_rates_within_thresholds",
    "ERROR, blocking: in each month of the run, the share of nulls in tailnum and the delay and "
    "air-time columns stays under its threshold. Cancelled flights leave them empty (5.4% in the "
    "worst month of 2013); far more means the extract lost values, and the delay marts would "
    "be computed on a biased remainder.",
)
def null_rates_within_thresholds(
    context: dg.AssetCheckExecutionContext, config: NullRateConfig, warehouse: Warehouse
) -> dg.AssetCheckResult:
    months = run_months(context)
    columns = list(config.max_null_share)
    with warehouse.connect(read_only=True) as connection:
        actual = table_columns(connection, tables.FLIGHTS.qualified_name)
        unknown_columns = [column for column in columns if column not in actual]
        if unknown_columns:
            return result(
                passed=False,
                description=f"max_null_share names columns staging.flights does not have: {', '.join(unknown_columns)}.",
                failing_rows=0,
            )
        rates = rows(
            connection, check_sql("staging", "flights_null_shares", columns=columns), {"months": months}
        )
    breaches = [
        {
            "month": row["month"],
            "column": column,
            "null_share": round(row[column], 4),
            "max_null_share": limit,
            "null_rows": round(row[column] * row["flights"]),
        }
        for row in rates
        for column, limit in config.max_null_share.items()
        if row[column] > limit
    ]
    return result(
        passed=not breaches,
        description=(
            f"staging.flights: null shares are within their thresholds ({scope(months)})."
            if not breaches
            else "staging.flights: "
            + "; ".join(
                f"{row['column']} is null in {row['null_share']:.1%} of {row['month']:%Y-%m} (limit {row['max_null_share']:.1%})"
                for row in breaches
            )
            + "."
        ),
        failing_rows=sum(row["null_rows"] for row in breaches),
        sample=breaches[: config.sample_size],
        null_shares=dg.MetadataValue.json([jsonable(row) for row in rates]),
    )


def _freshness_check(table: Table, date_column: str) -> dg.AssetChecksDefinition:
    qualified = table.qualified_name

    @table_check(
        table,
        "newest_month_is_fresh",
        f"WARN, not blocking: the newest month in {qualified} is at most max_months_behind "
        f"behind the newest {table.name} file landed. Stale data is still correct data; the marts "
        "may be built from it, but someone should load the missing months.",
    )
    def freshness(
        config: FreshnessConfig, warehouse: Warehouse, landing_zone: LandingZone
    ) -> dg.AssetCheckResult:
        landed = sorted(
            date.fromisoformat(parsed.partition_key)
            for path in landing_zone.root.glob(f"{table.name}_*.csv")
            if (parsed := LANDED_TABLES.monthly_file(path.name)) is not None and parsed.table == table.name
        )
        with warehouse.connect(read_only=True) as connection:
            newest = connection.execute(
                check_sql("staging", "newest_month", table=qualified, date_column=date_column)
            ).fetchone()[0]
        newest_landed = landed[-1] if landed else None
        if newest is None:
            behind = None
        elif newest_landed is None:
            behind = 0
        else:
            behind = (newest_landed.year - newest.year) * 12 + newest_landed.month - newest.month
        passed = behind is not None and behind <= config.max_months_behind
        return result(
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"{qualified} holds no rows."
                if newest is None
                else f"Newest month loaded {newest:%Y-%m}, newest landed "
                f"{newest_landed:%Y-%m}: {max(behind, 0)} month(s) behind (allowed {config.max_months_behind})."
                if newest_landed
                else f"Newest month loaded {newest:%Y-%m}; no {table.name} file is in the landing zone."
            ),
            failing_rows=0,
            newest_loaded_month=str(newest) if newest else None,
            newest_landed_month=str(newest_landed) if newest_landed else None,
            months_behind=behind,
        )

    return freshness


@table_check(
    tables.WEATHER,
    "readings_plausible",
    "WARN, not blocking: wind speeds and gusts stay under physical limits. The contract only "
    "rules out negatives because the 2013 source holds a 1,048 mph reading at EWR; it falls in "
    "the top wind bin of weather_impact, a known blemish to report, not to stop the marts for.",
)
def readings_plausible(
    context: dg.AssetCheckExecutionContext, config: WeatherPlausibilityConfig, warehouse: Warehouse
) -> dg.AssetCheckResult:
    months = run_months(context)
    params = {
        "months": months,
        "max_speed": config.max_wind_speed_mph,
        "max_gust": config.max_wind_gust_mph,
        "sample_size": config.sample_size,
    }
    [found] = check_rows(warehouse, "staging", "implausible_wind_readings", params)
    failing, sample = found["failing_rows"], found["sample"] or []
    return result(
        passed=failing == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"Wind readings are plausible ({scope(months)})."
            if failing == 0
            else f"{failing:,} observation(s) exceed {config.max_wind_speed_mph:g} mph wind or "
            f"{config.max_wind_gust_mph:g} mph gusts ({scope(months)}), e.g. "
            + ", ".join(
                f"{row['origin']} {row['observed_at']}: {row['wind_speed_mph']:g} mph" for row in sample[:3]
            )
            + "."
        ),
        failing_rows=int(failing),
        sample=sample,
    )


asset_checks = [
    flight_identity_unique,
    *reference_checks,
    null_rates_within_thresholds,
    _freshness_check(tables.FLIGHTS, "flight_date"),
    observation_unique,
    readings_plausible,
    _freshness_check(tables.WEATHER, "observation_date"),
]
