"""Checks on the raw tables: each holds what its landed files held, with its columns and keys.

The check that the airports file covers the flights is in ``reference_checks.py``;
``asset_checks`` holds both.
"""

from datetime import date

import dagster as dg

from pipeline.defs.raw.reference_checks import reference_checks
from pipeline.landing.archive import archived_copy
from pipeline.landing.landed_tables import monthly_file_name
from pipeline.landing.resources import LandingZone
from pipeline.warehouse.checks import (
    NO_MONTH,
    Fixed,
    SampleConfig,
    check_sql,
    duplicate_keys_sql,
    duplicates_result,
    jsonable,
    nulls_result,
    result,
    rows,
    run_months,
    scope,
    table_check,
    table_columns,
)
from pipeline.warehouse.connection import read_sql
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.tables import MONTHLY, Table

# The month a raw row belongs to, for the ${month_of_row} slot: a monthly table's year and month;
# a dimension's rows belong to none (its checks always see the whole table).
MONTH_OF_ROW = {True: Fixed("make_date(year, month, 1)"), False: NO_MONTH}


def _mismatch(row: dict) -> str:
    in_file = (
        f"{row['file']} has {row['rows_in_file']:,} rows"
        if row["rows_in_file"] is not None
        else f"{row['file']} has no archived copy to count"
    )
    return f"{in_file}, the warehouse {row['rows_in_warehouse']:,}"


def _rows_in_archived_copy(
    connection, landing_zone: LandingZone, name: str, version: str | None
) -> int | None:
    """Data rows in the archived version of a landed file, or None when there is no copy to count."""
    path = archived_copy(landing_zone.archive_root, name, version) if version else None
    if path is None or not path.is_file():
        return None
    return connection.execute(read_sql("raw", "checks/landed_file_rows"), {"path": str(path)}).fetchone()[0]


def raw_table_checks(table: Table, key_values: tuple[str, ...]) -> list[dg.AssetChecksDefinition]:
    """row_count_matches_landing_file, required_columns_present, key_values_filled (``key_values``
    never null) and the key's uniqueness check of the raw ``table``."""
    qualified = table.qualified_name
    monthly = table.lands == MONTHLY
    key = table.key
    slots = {"table": qualified, "month_of_row": MONTH_OF_ROW[monthly]}

    def months_of(context: dg.AssetCheckExecutionContext) -> list[date] | None:
        return run_months(context) if monthly else None

    @table_check(
        table,
        "row_count_matches_landing_file",
        "ERROR, blocking: each loaded month (or the whole file for a dimension) has exactly as many "
        "rows as the landed file it was loaded from. A difference means rows were lost or doubled "
        "on the way in, so nothing downstream may use them.",
    )
    def row_count_check(
        context: dg.AssetCheckExecutionContext,
        config: SampleConfig,
        warehouse: Warehouse,
        landing_zone: LandingZone,
    ) -> dg.AssetCheckResult:
        # Compare each stored slice with the archived version its rows record having been read
        # from: the newest archived version is not it when upstream re-delivered an older one.
        months = months_of(context)
        with warehouse.connect(read_only=True) as connection:
            loaded = rows(connection, check_sql("raw", "loaded_slices", **slots), {"months": months})
            loaded += [
                {
                    "file": monthly_file_name(table.name, month.isoformat()),
                    "version": None,
                    "month": month,
                    "rows_in_warehouse": 0,
                }
                for month in sorted(set(months or ()) - {row["month"] for row in loaded})
            ]
            comparison = [
                {
                    **row,
                    "rows_in_file": _rows_in_archived_copy(
                        connection, landing_zone, row["file"], row["version"]
                    ),
                }
                for row in loaded
            ]
        mismatched = [row for row in comparison if row["rows_in_file"] != row["rows_in_warehouse"]]
        return result(
            passed=not mismatched,
            description=(
                f"{qualified}: row counts match the landed files ({len(comparison)} checked)."
                if not mismatched
                else f"{qualified}: {len(mismatched)} of {len(comparison)} file(s) differ from the "
                "warehouse: " + "; ".join(_mismatch(row) for row in mismatched)
            ),
            failing_rows=sum(
                abs((row["rows_in_file"] or 0) - row["rows_in_warehouse"]) for row in mismatched
            ),
            sample=mismatched[: config.sample_size],
            files_checked=len(comparison),
            comparison=dg.MetadataValue.json([jsonable(row) for row in comparison]),
        )

    @table_check(
        table,
        "required_columns_present",
        "ERROR, blocking: the table has every column the landing format declares "
        "(the table folder's defs.yaml) with its declared type, plus the lineage columns. "
        "Staging reads these columns by name; a missing one would fail or mis-fill it.",
    )
    def required_columns_check(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as connection:
            actual = table_columns(connection, qualified)
        problems = [
            {"column": column.name, "required_type": column.type, "actual_type": actual.get(column.name)}
            for column in table.columns
            if actual.get(column.name) != column.type
        ]
        return result(
            passed=not problems,
            description=(
                f"{qualified}: all {len(table.columns)} required columns are present with their types."
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

    @table_check(
        table,
        "key_values_filled",
        f"ERROR, blocking: {', '.join(key_values)} are never null. A row without "
        "its key cannot be placed, joined or deduplicated downstream.",
    )
    def key_values_check(
        context: dg.AssetCheckExecutionContext, config: SampleConfig, warehouse: Warehouse
    ) -> dg.AssetCheckResult:
        months = months_of(context)
        with warehouse.connect(read_only=True) as connection:
            [counts] = rows(
                connection,
                check_sql("raw", "key_value_nulls", key_values=key_values, **slots),
                {"months": months},
            )
            sample = (
                rows(
                    connection,
                    check_sql("raw", "rows_lacking_key_values", key_values=key_values, **slots),
                    {"months": months, "sample_size": config.sample_size},
                )
                if counts["failing_rows"]
                else []
            )
        return nulls_result(qualified, key_values, counts, sample, scope(months))

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

    @table_check(
        table,
        "identity_unique" if monthly else f"{key[0]}_unique",
        unique_description,
    )
    def unique_check(
        context: dg.AssetCheckExecutionContext, config: SampleConfig, warehouse: Warehouse
    ) -> dg.AssetCheckResult:
        months = months_of(context)
        with warehouse.connect(read_only=True) as connection:
            return duplicates_result(
                connection,
                duplicate_keys_sql(key=key, **slots),
                {"months": months, "sample_size": config.sample_size},
                table=qualified,
                key=key,
                scope=scope(months),
                severity=dg.AssetCheckSeverity.ERROR if monthly else dg.AssetCheckSeverity.WARN,
            )

    return [row_count_check, required_columns_check, key_values_check, unique_check]


asset_checks = reference_checks
