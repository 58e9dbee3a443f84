"""Asset checks on every layer: row counts, keys, null rates, references, freshness, reconciliation.

Severity is chosen per check and stated in its description:
- ERROR + blocking where wrong data would flow on: a failed check stops the downstream steps of the
  run, and AutomationCondition.all_deps_blocking_checks_passed() keeps later runs from building on it.
- WARN, never blocking, for findings a person should see that do not make the data wrong (known
  source gaps, staleness, odd readings). A WARN result counts as *failed* for
  all_deps_blocking_checks_passed(), so a blocking check never returns WARN: it would hold the marts
  back for good on a known, accepted gap.

Partitions: partitioned asset checks are a preview in Dagster 1.13, and in a run over a range of
partitions (this project's single-run backfills) such a check's result is stored without a
partition while the per-partition executions planned for it are never resolved. The checks are
therefore unpartitioned: in a partitioned run they examine the run's months (from its partition
tags), otherwise every loaded month, and name each month in their metadata.

Every result carries ``failing_rows`` and a ``sample`` of the offending rows. Thresholds are Config
fields with defaults, set per run in the launchpad under ``ops.<check op>.config``.
"""

import struct
from collections.abc import Sequence
from datetime import date
from typing import Any

import dagster as dg
from pydantic import Field

from pipeline import constants
from pipeline.landing.archive import archived_copy
from pipeline.defs.marts import assets as marts
from pipeline.defs.raw import assets as raw
from pipeline.defs.reports import assets as report
from pipeline.defs.reports.store import ReportStore
from pipeline.defs.staging import assets as staging
from pipeline.defs.raw.tables import RAW_TABLES
from pipeline.defs.rules import WEATHER_FACTORS
from pipeline.landing.names import dimension_file_name, monthly_file_name, parse_monthly_file_name
from pipeline.partitions import monthly_partitions
from pipeline.landing.resources import LandingZone
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.connection import read_sql, table_exists

RAW_MONTH_EXPR = "make_date(year, month, 1)"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class SampleConfig(dg.Config):
    sample_size: int = Field(default=10, description="Offending rows shown in the result's metadata.")


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


class UnknownTailnumConfig(SampleConfig):
    max_unknown_share: float = Field(
        default=0.2,
        description="Largest share of flights whose tail number is not in planes (15% in 2013: "
        "the FAA registry the planes come from lacks some fleets).",
    )


class FreshnessConfig(dg.Config):
    max_months_behind: int = Field(
        default=0, description="How many months the warehouse may trail the newest landed month."
    )


class WeatherPlausibilityConfig(SampleConfig):
    max_wind_speed_mph: float = Field(default=150.0, description="Sustained wind above this is a sensor error.")
    max_wind_gust_mph: float = Field(default=250.0, description="Gusts above this are a sensor error.")


class ReconciliationConfig(SampleConfig):
    tolerance_flights: int = Field(default=0, description="Allowed difference in flights per group.")


# --- helpers ---------------------------------------------------------------------------------------


def _run_months(context: dg.AssetCheckExecutionContext) -> list[date] | None:
    """The months of a partitioned run, or None when the run is not partitioned.

    Read from the run's tags: a run of checks alone has no partitioned step to ask.
    """
    tags = context.run.tags
    if "dagster/partition" in tags:
        keys = [tags["dagster/partition"]]
    elif "dagster/asset_partition_range_start" in tags:
        keys = monthly_partitions.get_partition_keys_in_range(
            dg.PartitionKeyRange(
                tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]
            )
        )
    else:
        return None
    return [date.fromisoformat(key) for key in keys]


def _months_filter(months: Sequence[date] | None, month_expr: str) -> tuple[str, dict[str, Any]]:
    if months is None:
        return "true", {}
    return f"{month_expr} = any($months)", {"months": list(months)}


def _scope(months: Sequence[date] | None) -> str:
    if months is None:
        return "all loaded months"
    return months[0].isoformat()[:7] if len(months) == 1 else f"{months[0]:%Y-%m}…{months[-1]:%Y-%m}"


def _rows(connection, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cursor = connection.execute(sql, params or {})
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (int, float, str, bool)) or v is None else str(v) for k, v in row.items()}


def _result(
    *,
    passed: bool,
    description: str,
    failing_rows: int,
    sample: Sequence[dict[str, Any]] = (),
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    **metadata: Any,
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=passed,
        severity=severity,
        description=description,
        metadata={
            "failing_rows": failing_rows,
            "sample": dg.MetadataValue.json([_jsonable(row) for row in sample]),
            **metadata,
        },
    )


def _duplicates_result(
    connection,
    table: str,
    key: Sequence[str],
    where: str,
    params,
    sample_size: int,
    scope: str,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
):
    columns = ", ".join(key)
    duplicates = f"select {columns}, count(*) as copies from {table} where {where} group by all having count(*) > 1"
    failing = connection.execute(f"select coalesce(sum(copies), 0) from ({duplicates})", params).fetchall()[0][0]
    sample = _rows(connection, f"{duplicates} order by all limit {int(sample_size)}", params)
    return _result(
        passed=failing == 0,
        description=(
            f"{table}: every ({columns}) is unique ({scope})."
            if failing == 0
            else f"{table}: {failing:,} rows share their ({columns}) with another row ({scope})."
        ),
        failing_rows=int(failing),
        sample=sample,
        severity=severity,
    )


def _nulls_result(connection, table: str, columns: Sequence[str], where: str, params, sample_size: int, scope: str):
    any_null = " or ".join(f"{column} is null" for column in columns)
    counts = connection.execute(
        "select " + ", ".join(f"count(*) filter (where {column} is null)" for column in columns)
        + f", count(*) filter (where {any_null}) from {table} where {where}",
        params,
    ).fetchall()[0]
    null_counts, failing = dict(zip(columns, counts[:-1], strict=True)), counts[-1]
    sample = _rows(connection, f"select * exclude (_loaded_at) from {table} where ({where}) and ({any_null}) limit {int(sample_size)}", params)
    empty = {column: count for column, count in null_counts.items() if count}
    return _result(
        passed=failing == 0,
        description=(
            f"{table}: {', '.join(columns)} are filled in every row ({scope})."
            if failing == 0
            else f"{table}: {failing:,} rows lack a key value ({scope}): "
            + ", ".join(f"{column} null in {count:,}" for column, count in empty.items())
            + "."
        ),
        failing_rows=int(failing),
        sample=sample,
        null_counts=dg.MetadataValue.json(null_counts),
    )


def _file_rows(connection, path) -> int:
    # All text and no type sniffing: a count of data rows independent of the raw load's parsing.
    return connection.execute(
        "select count(*) from read_csv(?, header = true, all_varchar = true, nullstr = 'NA')", [str(path)]
    ).fetchall()[0][0]


# --- raw -------------------------------------------------------------------------------------------

RAW_KEYS = {
    "flights": ("carrier", "flight", "origin", "year", "month", "day", "sched_dep_time"),
    "weather": ("origin", "time_hour"),
    "airlines": ("carrier",),
    "airports": ("faa",),
    "planes": ("tailnum",),
}
RAW_REQUIRED_VALUES = {
    "flights": ("year", "month", "day", "carrier", "flight", "origin", "dest", "sched_dep_time", "sched_arr_time"),
    "weather": ("origin", "year", "month", "day", "hour", "time_hour"),
    "airlines": ("carrier", "name"),
    "airports": ("faa", "name"),
    "planes": ("tailnum",),
}


def _raw_table_checks(asset: dg.AssetsDefinition, table: str, monthly: bool) -> list[dg.AssetChecksDefinition]:
    qualified = f"{constants.RAW_SCHEMA}.{table}"

    def months_of(context: dg.AssetCheckExecutionContext) -> list[date] | None:
        return _run_months(context) if monthly else None

    @dg.asset_check(
        asset=asset,
        name="row_count_matches_landing_file",
        blocking=True,
        description=(
            "ERROR, blocking: each loaded month (or the whole file for a dimension) has exactly as many "
            "rows as the landed file it was loaded from. A difference means rows were lost or doubled "
            "on the way in, so nothing downstream may use them."
        ),
    )
    def row_count_check(
        context: dg.AssetCheckExecutionContext,
        config: SampleConfig,
        warehouse: Warehouse,
        landing_zone: LandingZone,
    ) -> dg.AssetCheckResult:
        # Compare each stored slice with the archived version its rows record having been read
        # from: the newest archived version is not it when upstream re-delivered an older one.
        with warehouse.connect(read_only=True) as connection:
            if monthly:
                months = months_of(context) or [
                    row[0]
                    for row in connection.execute(
                        f"select distinct {RAW_MONTH_EXPR} from {qualified} order by 1"
                    ).fetchall()
                ]
                loaded = connection.execute(
                    f"select {RAW_MONTH_EXPR}, _source_file, _source_version, count(*) from {qualified} "
                    f"where {RAW_MONTH_EXPR} = any($months) group by all order by all",
                    {"months": months},
                ).fetchall()
                missing_months = set(months) - {month for month, *_ in loaded}
                loaded += [
                    (month, monthly_file_name(table, month.isoformat()), None, 0)
                    for month in sorted(missing_months)
                ]
            else:
                loaded = [
                    (None, name, version, rows)
                    for name, version, rows in connection.execute(
                        f"select _source_file, _source_version, count(*) from {qualified} group by all"
                    ).fetchall()
                ]
            comparison = []
            for month, name, version, rows in loaded:
                path = archived_copy(landing_zone.archive_root, name, version) if version else None
                comparison.append(
                    {
                        "file": name,
                        "version": version,
                        "month": month,
                        "rows_in_warehouse": rows,
                        "rows_in_file": _file_rows(connection, path) if path and path.is_file() else None,
                    }
                )
        mismatched = [row for row in comparison if row["rows_in_file"] != row["rows_in_warehouse"]]
        failing = sum(abs((row["rows_in_file"] or 0) - row["rows_in_warehouse"]) for row in mismatched)
        return _result(
            passed=not mismatched,
            description=(
                f"{qualified}: row counts match the landed files ({len(comparison)} checked)."
                if not mismatched
                else f"{qualified}: {len(mismatched)} of {len(comparison)} file(s) differ from the "
                "warehouse: "
                + "; ".join(
                    (
                        f"{row['file']} has {row['rows_in_file']:,} rows"
                        if row["rows_in_file"] is not None
                        else f"{row['file']} has no archived copy to count"
                    )
                    + f", the warehouse {row['rows_in_warehouse']:,}"
                    for row in mismatched
                )
            ),
            failing_rows=failing,
            sample=mismatched[: config.sample_size],
            files_checked=len(comparison),
            comparison=dg.MetadataValue.json([_jsonable(row) for row in comparison]),
        )

    @dg.asset_check(
        asset=asset,
        name="required_columns_present",
        blocking=True,
        description=(
            "ERROR, blocking: the table has every column the landing format declares "
            "(pipeline/defs/raw/tables.py) with its declared type, plus the lineage columns. "
            "Staging reads these columns by name; a missing one would fail or mis-fill it."
        ),
    )
    def required_columns_check(warehouse: Warehouse) -> dg.AssetCheckResult:
        required = {column.name: column.type for column in RAW_TABLES[table].columns}
        with warehouse.connect(read_only=True) as connection:
            actual = {name: dtype for name, dtype, *_ in connection.execute(f"describe {qualified}").fetchall()}
        problems = [
            {"column": name, "required_type": dtype, "actual_type": actual.get(name)}
            for name, dtype in required.items()
            if actual.get(name) != dtype
        ]
        return _result(
            passed=not problems,
            description=(
                f"{qualified}: all {len(required)} required columns are present with their types."
                if not problems
                else f"{qualified}: "
                + "; ".join(
                    f"column {row['column']} is missing"
                    if row["actual_type"] is None
                    else f"column {row['column']} is {row['actual_type']}, not {row['required_type']}"
                    for row in problems
                )
                + "."
            ),
            failing_rows=len(problems),
            sample=problems,
        )

    key = RAW_KEYS[table]

    @dg.asset_check(
        asset=asset,
        name="key_values_filled",
        blocking=True,
        description=(
            f"ERROR, blocking: {', '.join(RAW_REQUIRED_VALUES[table])} are never null. A row without "
            "its key cannot be placed, joined or deduplicated downstream."
        ),
    )
    def key_values_check(
        context: dg.AssetCheckExecutionContext, config: SampleConfig, warehouse: Warehouse
    ) -> dg.AssetCheckResult:
        months = months_of(context)
        where, params = _months_filter(months, RAW_MONTH_EXPR)
        with warehouse.connect(read_only=True) as connection:
            return _nulls_result(
                connection, qualified, RAW_REQUIRED_VALUES[table], where, params, config.sample_size, _scope(months)
            )

    if monthly:
        unique_description = (
            f"ERROR, blocking: each ({', '.join(key)}) appears once in the run's months. Staging "
            "keeps every raw row, so a duplicate here would be counted twice in every mart."
        )
    else:
        unique_description = (
            f"WARN: each {key[0]} appears once in the landed file. Staging keeps one row per "
            f"{key[0]}, so duplicates do no harm downstream, but upstream should hear of them."
        )

    @dg.asset_check(
        asset=asset,
        name="identity_unique" if monthly else f"{key[0]}_unique",
        blocking=monthly,
        description=unique_description,
    )
    def unique_check(
        context: dg.AssetCheckExecutionContext, config: SampleConfig, warehouse: Warehouse
    ) -> dg.AssetCheckResult:
        months = months_of(context)
        where, params = _months_filter(months, RAW_MONTH_EXPR)
        severity = dg.AssetCheckSeverity.ERROR if monthly else dg.AssetCheckSeverity.WARN
        with warehouse.connect(read_only=True) as connection:
            return _duplicates_result(
                connection, qualified, key, where, params, config.sample_size, _scope(months), severity
            )

    return [row_count_check, required_columns_check, key_values_check, unique_check]


@dg.asset_check(
    asset=raw.raw_airports,
    name="flight_airports_present",
    additional_deps=[raw.raw_flights],
    description=(
        "ERROR for a code flights use that neither the airports file nor the reference supplement "
        "has (staging could not place those flights in time); WARN for codes only the supplement "
        "fills (BQN, PSE, SJU, STT in 2013): a known gap upstream should close, not a silent pass. "
        "Not blocking: staging/flights' own blocking check stops the marts on the ERROR case."
    ),
)
def raw_airports_cover_flights(
    config: SampleConfig, warehouse: Warehouse
) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as connection:
        if not table_exists(connection, constants.RAW_SCHEMA, "flights"):
            # Dimensions land first on a fresh warehouse (the landing sensor loads them on its
            # own): with no flights yet there is nothing they could lack.
            return _result(
                passed=True, description="No flights are loaded yet; nothing to cover.", failing_rows=0
            )
        missing = _rows(
            connection,
            read_sql("raw", "checks/raw_airports_missing_for_flights"),
            {"supplement_path": str(staging.AIRPORT_TIMEZONE_SUPPLEMENT)},
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
    return _result(
        passed=not missing,
        severity=dg.AssetCheckSeverity.ERROR if unresolved else dg.AssetCheckSeverity.WARN,
        description=description,
        failing_rows=sum(row["flights"] for row in missing),
        sample=missing[: config.sample_size],
        missing_codes=dg.MetadataValue.json([row["faa"] for row in missing]),
    )


RAW_CHECKS = [
    *_raw_table_checks(raw.raw_flights, "flights", monthly=True),
    *_raw_table_checks(raw.raw_weather, "weather", monthly=True),
    *_raw_table_checks(raw.raw_airlines, "airlines", monthly=False),
    *_raw_table_checks(raw.raw_airports, "airports", monthly=False),
    *_raw_table_checks(raw.raw_planes, "planes", monthly=False),
    raw_airports_cover_flights,
]


# --- staging ---------------------------------------------------------------------------------------

STAGING_FLIGHTS = f"{constants.STAGING_SCHEMA}.flights"
FLIGHT_IDENTITY = ("carrier", "flight_number", "origin", "sched_dep_at")
STAGING_MONTH_EXPR = "date_trunc('month', flight_date)::date"


@dg.asset_check(
    asset=staging.flights,
    name="flight_identity_unique",
    blocking=True,
    description=(
        "ERROR, blocking: each (carrier, flight_number, origin, sched_dep_at) appears once in the "
        "whole table, across months. A duplicate flight is counted twice in every mart."
    ),
)
def flight_identity_unique(config: SampleConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as connection:
        return _duplicates_result(
            connection, STAGING_FLIGHTS, FLIGHT_IDENTITY, "true", {}, config.sample_size, "all months"
        )


@dg.asset_check(
    asset=staging.flights,
    name="carrier_in_airlines",
    blocking=True,
    additional_deps=[staging.airlines],
    description=(
        "ERROR, blocking: every flight's carrier is in staging/airlines. A carrier without a name "
        "would reach the carrier marts and the report unnamed."
    ),
)
def carrier_in_airlines(config: SampleConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as connection:
        unknown = _rows(
            connection,
            "select carrier, count(*) as flights, min(flight_date) as first_flight_date "
            f"from {STAGING_FLIGHTS} where carrier not in (select carrier from staging.airlines) "
            "group by all order by flights desc, carrier",
        )
    failing = sum(row["flights"] for row in unknown)
    return _result(
        passed=not unknown,
        description=(
            "Every flight's carrier is in staging.airlines."
            if not unknown
            else f"{failing:,} flights have a carrier missing from staging.airlines: "
            + ", ".join(f"{row['carrier']} ({row['flights']:,})" for row in unknown)
            + "."
        ),
        failing_rows=failing,
        sample=unknown[: config.sample_size],
    )


@dg.asset_check(
    asset=staging.flights,
    name="airports_known",
    blocking=True,
    additional_deps=[staging.airports],
    description=(
        "ERROR, blocking: every origin and destination is in staging/airports (source or reference "
        "supplement). An unknown airport has no time zone or name for the route marts. Codes only the "
        "supplement knows are reported by airports_from_reference_supplement (WARN) instead."
    ),
)
def airports_known(config: SampleConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as connection:
        unknown = _rows(
            connection,
            "select role, code, count(*) as flights from ("
            f"  select 'origin' as role, origin as code from {STAGING_FLIGHTS}"
            f"  union all select 'dest', dest from {STAGING_FLIGHTS}"
            ") where code not in (select faa from staging.airports) group by all order by flights desc, code",
        )
    failing = sum(row["flights"] for row in unknown)
    return _result(
        passed=not unknown,
        description=(
            "Every origin and destination is in staging.airports."
            if not unknown
            else f"{failing:,} flight ends use airports missing from staging.airports: "
            + ", ".join(f"{row['role']} {row['code']} ({row['flights']:,})" for row in unknown)
            + "."
        ),
        failing_rows=failing,
        sample=unknown[: config.sample_size],
    )


@dg.asset_check(
    asset=staging.flights,
    name="airports_from_reference_supplement",
    additional_deps=[staging.airports],
    description=(
        "WARN, not blocking: airports that flights use but the airports source lacks, known only "
        "from the reference supplement shipped with the code (Puerto Rico and US Virgin Islands in "
        "2013). The data is right; the finding is for upstream, and must not hold the marts back."
    ),
)
def airports_from_reference_supplement(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as connection:
        supplemented = _rows(connection, read_sql("staging", "checks/airports_only_in_supplement"))
    failing = sum(row["flights"] for row in supplemented)
    return _result(
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


@dg.asset_check(
    asset=staging.flights,
    name="tailnum_in_planes",
    additional_deps=[staging.planes],
    description=(
        "WARN, not blocking: the share of flights whose tail number is missing from staging/planes "
        "stays under max_unknown_share. Such flights stay in the fleet mart as 'unknown'; a jump "
        "means the planes file lost fleets, worth a look but not a wrong number."
    ),
)
def tailnum_in_planes(config: UnknownTailnumConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as connection:
        total, unknown = connection.execute(
            f"select count(*) filter (where tailnum is not null), "
            f"count(*) filter (where tailnum not in (select tailnum from staging.planes)) from {STAGING_FLIGHTS}"
        ).fetchall()[0]
        sample = _rows(
            connection,
            f"select tailnum, carrier, count(*) as flights from {STAGING_FLIGHTS} "
            "where tailnum not in (select tailnum from staging.planes) "
            f"group by all order by flights desc, tailnum limit {int(config.sample_size)}",
        )
    share = unknown / total if total else 0.0
    passed = share <= config.max_unknown_share
    return _result(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{unknown:,} of {total:,} flights ({share:.1%}) have a tail number missing from "
        f"staging.planes; the limit is {config.max_unknown_share:.1%}.",
        failing_rows=int(unknown) if not passed else 0,
        sample=sample,
        unknown_share=float(share),
        flights_with_unknown_tailnum=int(unknown),
    )


@dg.asset_check(
    asset=staging.flights,
    name="null_rates_within_thresholds",
    blocking=True,
    description=(
        "ERROR, blocking: in each month of the run, the share of nulls in tailnum and the delay and "
        "air-time columns stays under its threshold. Cancelled flights leave them empty (5.4% in the "
        "worst month of 2013); far more means the extract lost values, and the delay marts would "
        "be computed on a biased remainder."
    ),
)
def null_rates_within_thresholds(
    context: dg.AssetCheckExecutionContext, config: NullRateConfig, warehouse: Warehouse
) -> dg.AssetCheckResult:
    months = _run_months(context)
    where, params = _months_filter(months, STAGING_MONTH_EXPR)
    columns = list(config.max_null_share)
    with warehouse.connect(read_only=True) as connection:
        actual = {name for name, *_ in connection.execute(f"describe {STAGING_FLIGHTS}").fetchall()}
        unknown_columns = [column for column in columns if column not in actual]
        if unknown_columns:
            return _result(
                passed=False,
                description=f"max_null_share names columns staging.flights does not have: {', '.join(unknown_columns)}.",
                failing_rows=0,
            )
        rates = _rows(
            connection,
            f"select {STAGING_MONTH_EXPR} as month, count(*) as flights, "
            + ", ".join(f"avg(({column} is null)::int) as {column}" for column in columns)
            + f" from {STAGING_FLIGHTS} where {where} group by 1 order by 1",
            params,
        )
    breaches = [
        {"month": row["month"], "column": column, "null_share": round(row[column], 4), "max_null_share": limit,
         "null_rows": round(row[column] * row["flights"])}
        for row in rates
        for column, limit in config.max_null_share.items()
        if row[column] > limit
    ]
    return _result(
        passed=not breaches,
        description=(
            f"staging.flights: null shares are within their thresholds ({_scope(months)})."
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
        null_shares=dg.MetadataValue.json([_jsonable(row) for row in rates]),
    )


def _freshness_check(asset: dg.AssetsDefinition, table: str, date_column: str) -> dg.AssetChecksDefinition:
    qualified = f"{constants.STAGING_SCHEMA}.{table}"

    @dg.asset_check(
        asset=asset,
        name="newest_month_is_fresh",
        description=(
            f"WARN, not blocking: the newest month in {qualified} is at most max_months_behind "
            f"behind the newest {table} file landed. Stale data is still correct data; the marts "
            "may be built from it, but someone should load the missing months."
        ),
    )
    def freshness(
        config: FreshnessConfig, warehouse: Warehouse, landing_zone: LandingZone
    ) -> dg.AssetCheckResult:
        landed = sorted(
            date.fromisoformat(parsed.partition_key)
            for path in landing_zone.root.glob(f"{table}_*.csv")
            if (parsed := parse_monthly_file_name(path.name)) is not None and parsed.table == table
        )
        with warehouse.connect(read_only=True) as connection:
            newest = connection.execute(
                f"select max(date_trunc('month', {date_column}))::date from {qualified}"
            ).fetchall()[0][0]
        newest_landed = landed[-1] if landed else None
        if newest is None:
            behind = None
        elif newest_landed is None:
            behind = 0
        else:
            behind = (newest_landed.year - newest.year) * 12 + newest_landed.month - newest.month
        passed = behind is not None and behind <= config.max_months_behind
        return _result(
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"{qualified} holds no rows."
                if newest is None
                else f"Newest month loaded {newest:%Y-%m}, newest landed "
                f"{newest_landed:%Y-%m}: {max(behind, 0)} month(s) behind (allowed {config.max_months_behind})."
                if newest_landed
                else f"Newest month loaded {newest:%Y-%m}; no {table} file is in the landing zone."
            ),
            failing_rows=0,
            newest_loaded_month=str(newest) if newest else None,
            newest_landed_month=str(newest_landed) if newest_landed else None,
            months_behind=behind,
        )

    return freshness


@dg.asset_check(
    asset=staging.weather,
    name="observation_unique",
    blocking=True,
    description=(
        "ERROR, blocking: each (origin, observed_at) appears once across all months. A duplicate "
        "hour would double the flights joined to it in weather_impact."
    ),
)
def observation_unique(config: SampleConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as connection:
        return _duplicates_result(
            connection, "staging.weather", ("origin", "observed_at"), "true", {}, config.sample_size, "all months"
        )


@dg.asset_check(
    asset=staging.weather,
    name="readings_plausible",
    description=(
        "WARN, not blocking: wind speeds and gusts stay under physical limits. The contract only "
        "rules out negatives because the 2013 source holds a 1,048 mph reading at EWR; it falls in "
        "the top wind bin of weather_impact, a known blemish to report, not to stop the marts for."
    ),
)
def readings_plausible(
    context: dg.AssetCheckExecutionContext, config: WeatherPlausibilityConfig, warehouse: Warehouse
) -> dg.AssetCheckResult:
    months = _run_months(context)
    where, params = _months_filter(months, "date_trunc('month', observation_date)::date")
    params = {**params, "max_speed": config.max_wind_speed_mph, "max_gust": config.max_wind_gust_mph}
    implausible = f"({where}) and (wind_speed_mph > $max_speed or wind_gust_mph > $max_gust)"
    with warehouse.connect(read_only=True) as connection:
        failing = connection.execute(f"select count(*) from staging.weather where {implausible}", params).fetchall()[0][0]
        sample = _rows(
            connection,
            "select origin, observed_at, wind_speed_mph, wind_gust_mph, _source_file from staging.weather "
            f"where {implausible} order by observed_at limit {int(config.sample_size)}",
            params,
        )
    return _result(
        passed=failing == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"Wind readings are plausible ({_scope(months)})."
            if failing == 0
            else f"{failing:,} observation(s) exceed {config.max_wind_speed_mph:g} mph wind or "
            f"{config.max_wind_gust_mph:g} mph gusts ({_scope(months)}), e.g. "
            + ", ".join(f"{row['origin']} {row['observed_at']}: {row['wind_speed_mph']:g} mph" for row in sample[:3])
            + "."
        ),
        failing_rows=int(failing),
        sample=sample,
    )


def _dimension_key_check(asset: dg.AssetsDefinition, table: str, key: str, consumers: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name=f"{key}_unique",
        blocking=True,
        description=(
            f"ERROR, blocking: each {key} appears once. Flights join to this table by {key}; a "
            f"duplicate would multiply the flights in {consumers}."
        ),
    )
    def key_unique(config: SampleConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as connection:
            return _duplicates_result(
                connection, f"{constants.STAGING_SCHEMA}.{table}", (key,), "true", {}, config.sample_size, "whole table"
            )

    return key_unique


STAGING_CHECKS = [
    flight_identity_unique,
    carrier_in_airlines,
    airports_known,
    airports_from_reference_supplement,
    tailnum_in_planes,
    null_rates_within_thresholds,
    _freshness_check(staging.flights, "flights", "flight_date"),
    observation_unique,
    readings_plausible,
    _freshness_check(staging.weather, "weather", "observation_date"),
    _dimension_key_check(staging.airlines, "airlines", "carrier", "the carrier marts"),
    _dimension_key_check(staging.airports, "airports", "faa", "the route marts"),
    _dimension_key_check(staging.planes, "planes", "tailnum", "the fleet mart"),
]


# --- marts -----------------------------------------------------------------------------------------


def _reconciliation_result(mismatches: list[dict[str, Any]], mart: str, grain: str, sample_size: int):
    return _result(
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


RECONCILIATION_DESCRIPTION = (
    "ERROR, blocking: the mart's flights add up to staging/flights {grain}. A gap means the mart "
    "was built from other data than staging now holds; the report must not publish it."
)


@dg.asset_check(
    asset=marts.carrier_monthly_performance,
    name="reconciles_with_staging",
    blocking=True,
    additional_deps=[staging.flights],
    description=RECONCILIATION_DESCRIPTION.format(grain="per carrier and month (flights and cancellations)"),
)
def carrier_monthly_reconciles(config: ReconciliationConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as connection:
        mismatches = _rows(
            connection, read_sql("marts", "checks/carrier_monthly_reconciliation"), {"tolerance": config.tolerance_flights}
        )
    return _reconciliation_result(mismatches, "marts.carrier_monthly_performance", "carrier and month", config.sample_size)


@dg.asset_check(
    asset=marts.route_performance,
    name="reconciles_with_staging",
    blocking=True,
    additional_deps=[staging.flights],
    description=RECONCILIATION_DESCRIPTION.format(grain="per origin and destination"),
)
def route_reconciles(config: ReconciliationConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as connection:
        mismatches = _rows(connection, read_sql("marts", "checks/route_reconciliation"), {"tolerance": config.tolerance_flights})
    return _reconciliation_result(mismatches, "marts.route_performance", "route", config.sample_size)


def _total_reconciliation_check(asset: dg.AssetsDefinition, table: str, group: str) -> dg.AssetChecksDefinition:
    mart = f"{constants.MARTS_SCHEMA}.{table}"

    @dg.asset_check(
        asset=asset,
        name="reconciles_with_staging",
        blocking=True,
        additional_deps=[staging.flights],
        description=RECONCILIATION_DESCRIPTION.format(grain=f"in total{group and ' for each ' + group}"),
    )
    def reconciles(config: ReconciliationConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
        group_by = group or "'all'"
        with warehouse.connect(read_only=True) as connection:
            mismatches = _rows(
                connection,
                f"select {group_by} as grp, sum(flights)::bigint as mart_flights, "
                f"(select count(*) from {STAGING_FLIGHTS}) as staging_flights from {mart} group by all "
                "having abs(mart_flights - staging_flights) > $tolerance order by grp",
                {"tolerance": config.tolerance_flights},
            )
        return _reconciliation_result(mismatches, mart, group or "total", config.sample_size)

    return reconciles


@dg.asset_check(
    asset=marts.weather_delay_model,
    name="covers_every_origin",
    additional_deps=[staging.flights],
    description=(
        "ERROR, not blocking (nothing is downstream): the model has a row for every NYC origin in "
        "staging/flights and every weather factor, fitted on no more flights than departed from "
        "that origin with a reported delay. Otherwise the model describes other data than staging holds."
    ),
)
def weather_delay_model_covers_origins(config: SampleConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as connection:
        problems = _rows(
            connection,
            read_sql("marts", "checks/weather_delay_model_coverage"),
            {"factors": list(WEATHER_FACTORS)},
        )
    return _result(
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


MART_CHECKS = [
    carrier_monthly_reconciles,
    route_reconciles,
    # every flight appears once in each factor's bins
    _total_reconciliation_check(marts.weather_impact, "weather_impact", "factor"),
    _total_reconciliation_check(marts.fleet_performance, "fleet_performance", ""),
    weather_delay_model_covers_origins,
]


# --- report ----------------------------------------------------------------------------------------


def _png_size(path) -> tuple[int, int] | None:
    """Width and height from a PNG's header, or None when the file is not a PNG."""
    with open(path, "rb") as handle:
        head = handle.read(24)
    if len(head) < 24 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


@dg.asset_check(
    asset=report.carrier_on_time_report,
    name="chart_matches_mart",
    additional_deps=[marts.carrier_monthly_performance],
    description=(
        "ERROR, not blocking (nothing is downstream): the chart file is a readable PNG and the last "
        "report covered every carrier and month in marts/carrier_monthly_performance. A failure "
        "means readers see a broken or partial report."
    ),
)
def chart_matches_mart(
    context: dg.AssetCheckExecutionContext, warehouse: Warehouse, report_store: ReportStore
) -> dg.AssetCheckResult:
    chart = report_store.root / report.CHART_FILE_NAME
    size = _png_size(chart) if chart.is_file() else None
    event = context.instance.get_latest_materialization_event(report.carrier_on_time_report.key)
    reported = event.asset_materialization.metadata if event and event.asset_materialization else {}
    with warehouse.connect(read_only=True) as connection:
        carriers, months = connection.execute(
            "select count(distinct carrier), count(distinct month) from marts.carrier_monthly_performance"
        ).fetchall()[0]
    expected = {"carriers": carriers, "months": months}
    found = {name: reported[name].value if name in reported else None for name in expected}
    problems = []
    if not chart.is_file():
        problems.append(f"{chart} does not exist")
    elif size is None:
        problems.append(f"{chart} is not a PNG image")
    problems += [
        f"the report covered {found[name]} {name}, the mart has {expected[name]}"
        for name in expected
        if found[name] != expected[name]
    ]
    return _result(
        passed=not problems,
        description="; ".join(problems) + "." if problems else f"{chart.name} shows {carriers} carriers over {months} months.",
        failing_rows=len(problems),
        sample=[{"problem": problem} for problem in problems],
        chart_path=dg.MetadataValue.path(str(chart)),
        chart_size_px=dg.MetadataValue.json(list(size) if size else None),
    )


REPORT_CHECKS = [chart_matches_mart]

asset_checks = [*RAW_CHECKS, *STAGING_CHECKS, *MART_CHECKS, *REPORT_CHECKS]
