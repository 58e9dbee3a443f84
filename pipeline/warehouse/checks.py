"""What every layer's asset checks share: their config, run months, queries and result shape.

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
tags, passed to the queries as ``$months``), otherwise every loaded month (``$months`` null), and
name each month in their metadata.

Every result carries ``failing_rows`` and a ``sample`` of the offending rows. Thresholds are Config
fields with defaults, set per run in the launchpad under ``ops.<check op>.config``.

Each check's query is a file ``pipeline/defs/<layer>/checks/<name>.sql``. Values are always DuckDB
``$name`` parameters. A query over a table or columns that vary names them in ``${slot}``s, which
``check_sql`` fills as every SQL file's slots are filled (``pipeline/warehouse/sql_files.py``).
"""

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field

from pipeline.months import MonthKey
from pipeline.partitions import monthly_partitions
from pipeline.warehouse import versions
from pipeline.warehouse.connection import read_sql
from pipeline.warehouse.sql_files import Fixed, Slot, load_sql, slot_sql

if TYPE_CHECKING:
    from pipeline.warehouse.resources import Warehouse
    from pipeline.warehouse.tables import Table

PLATFORM_SQL_DIR = Path(__file__).parent / "sql"


class SampleConfig(dg.Config):
    sample_size: int = Field(default=10, description="Offending rows shown in the result's metadata.")


def table_check(
    table: "Table", name: str, description: str, *, reads: Sequence["Table"] = ()
) -> Callable[[Callable[..., Any]], dg.AssetChecksDefinition]:
    """``dg.asset_check`` ``name`` on ``table``'s asset, also reading the ``reads`` tables. The description
    states the severity (see above), and the check blocks exactly when it starts "ERROR, blocking"."""
    return dg.asset_check(
        asset=table.asset_key,
        name=name,
        blocking=description.startswith("ERROR, blocking"),
        additional_deps=[read.asset_key for read in reads],
        description=description,
    )


def check_spec(
    table: "Table", name: str, description: str, *, reads: Sequence["Table"] = ()
) -> dg.AssetCheckSpec:
    """The spec of a check that the asset's own step evaluates (``check_specs``), blocking by the
    same rule as ``table_check``."""
    return dg.AssetCheckSpec(
        name,
        asset=table.asset_key,
        blocking=description.startswith("ERROR, blocking"),
        additional_deps=[read.asset_key for read in reads],
        description=description,
    )


def version_read(connection, instance: dg.DagsterInstance, table: "Table") -> dict[str, Any]:
    """Which version of ``table`` a check read: the fingerprint of the rows it saw, and the run that
    published that version when it is the one the asset's latest materialization recorded."""
    read = versions.fingerprint(connection, table.qualified_name)
    event = instance.get_latest_materialization_event(table.asset_key)
    recorded = (
        event.asset_materialization.metadata.get("version") if event and event.asset_materialization else None
    )
    published_by = event.run_id if recorded is not None and recorded.value == read else None
    return {
        "version_read": read,
        "version_published_by_run": published_by or "not the version of the latest materialization",
    }


def run_months(context: dg.AssetCheckExecutionContext) -> list[date] | None:
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


def scope(months: Sequence[date] | None) -> str:
    """The months a result speaks of, as its description names them."""
    if months is None:
        return "all loaded months"
    first, last = MonthKey.from_date(months[0]), MonthKey.from_date(months[-1])
    return first.label if len(months) == 1 else f"{first}…{last}"


def check_sql(layer: str, name: str, **slots: Slot) -> str:
    """``pipeline/defs/<layer>/checks/<name>.sql`` with each ``${slot}`` filled from ``slots``.

    A slot takes an identifier (``code``, ``raw.<table>``), a sequence of column names (joined
    with commas) or a Fixed expression; every name must pass validate_identifier.
    """
    return read_sql(layer, f"checks/{name}", **slots)


# The month of a row for a table without months: the ${month_of_row} of a query over the whole table.
NO_MONTH = Fixed("null")


def duplicate_keys_sql(**slots: Slot) -> str:
    """``pipeline/warehouse/sql/duplicate_keys.sql``, the query of every layer's key-unique check, with
    its ``${table}``, ``${key}`` and ``${month_of_row}`` slots filled as ``check_sql`` fills them."""
    return load_sql(PLATFORM_SQL_DIR, "duplicate_keys", **slots)


def table_columns(connection, qualified_name: str) -> dict[str, str]:
    """The stored table's columns and their DuckDB types, as ``describe`` names them."""
    relation = connection.table(slot_sql(qualified_name))
    return {name: str(dtype) for name, dtype in zip(relation.columns, relation.types, strict=True)}


def rows(connection, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cursor = connection.execute(sql, params or {})
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def check_rows(
    warehouse: "Warehouse", layer: str, name: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The rows of ``pipeline/defs/<layer>/checks/<name>.sql``, read on a read-only connection."""
    with warehouse.connect(read_only=True) as connection:
        return rows(connection, read_sql(layer, f"checks/{name}"), params)


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (int, float, str, bool)) or v is None else str(v) for k, v in row.items()}


def result(
    *,
    passed: bool,
    description: str,
    failing_rows: int,
    sample: Sequence[dict[str, Any]] = (),
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    check_name: str | None = None,
    **metadata: Any,
) -> dg.AssetCheckResult:
    """A check's result; ``check_name`` where the step evaluates several (an asset's own checks)."""
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=passed,
        severity=severity,
        description=description,
        metadata={
            "failing_rows": failing_rows,
            "sample": dg.MetadataValue.json([jsonable(row) for row in sample]),
            **metadata,
        },
    )


def duplicates_result(
    connection,
    sql: str,
    params: dict[str, Any],
    *,
    table: str,
    key: Sequence[str],
    scope: str,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """From a ``checks/duplicate_keys`` query: its ``failing_rows`` and a ``sample`` of keys with copies."""
    failing, sample = connection.execute(sql, params).fetchone()
    columns = ", ".join(key)
    return result(
        passed=failing == 0,
        description=(
            f"{table}: every ({columns}) is unique ({scope})."
            if failing == 0
            else f"{table}: {failing:,} rows share their ({columns}) with another row ({scope})."
        ),
        failing_rows=int(failing),
        sample=sample or [],
        severity=severity,
    )


def nulls_result(
    table: str, columns: Sequence[str], counts: dict[str, Any], sample: Sequence[dict[str, Any]], scope: str
) -> dg.AssetCheckResult:
    """From a row of null counts, one per column, plus ``failing_rows`` (rows with any null)."""
    null_counts = {column: counts[column] for column in columns}
    failing = counts["failing_rows"]
    empty = {column: count for column, count in null_counts.items() if count}
    return result(
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
