"""The volume guard: a delivery that would replace good data with much less of it is held.

A file that passed every input rule can still be wrong as a whole: a month cut short upstream, a
dimension truncated at line 700. Before the load commits, each checked delivery is compared with
what the warehouse held before it (``read_stored``, read when the run starts the load):

- **shrink**: a month or dimension with fewer than ``1 - max_drop_share`` of the rows it replaces;
- **far below the other months**: a month with fewer than ``min_share_of_typical_month`` of the
  median of the other months (stored months not being replaced, and the run's other deliveries);
- **orphans**: a dimension (``Table.used_by``) whose new version lacks keys that the stored facts
  use and the stored version has (the codes the facts' columns named in ``used_by`` hold).

Beside it, the completeness rule (``coverage.py``): a monthly file that does not cover its month
(a day without rows for one of its origins, more hours without rows than the source ever lacked)
is held the same way, whatever its row count, on a first delivery as on a replacement.

A held delivery fails the run with the numbers: nothing is replaced, archived or quarantined, and
the file stays in the landing folder (it may be legitimate). An operator accepts it on purpose by
re-running with the run tag ``landing/accept_volume_change=<reason>`` or the asset's config
``accept_volume_change: <reason>``; the acceptance — reason, how it was given, the run's user —
is recorded in the materialization's metadata (``volume_change_accepted``; the figures in
``volume_guard`` and ``month_coverage``).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from pipeline.landing.coverage import CoverageFinding
from pipeline.landing.domain import SQL_DIR, quote
from pipeline.warehouse.connection import table_exists
from pipeline.warehouse.sql_files import Fixed, load_sql
from pipeline.warehouse.tables import Table

ACCEPT_TAG = "landing/accept_volume_change"
MAX_KEYS_NAMED = 10


@dataclass(frozen=True)
class Delivery:
    """A validated file as the guard sees it: its rows, and a dimension's key values."""

    table: str
    file_name: str
    month_start: date | None
    rows: int
    keys: frozenset[str] | None = None
    coverage: CoverageFinding | None = None


@dataclass(frozen=True)
class GuardSettings:
    max_drop_share: float = 0.2
    min_share_of_typical_month: float = 0.5


@dataclass
class Assessment:
    """The numbers per file (for the metadata) and the reasons to hold some of them: the volume
    guard's (``holds``) and the completeness rule's (``coverage_holds``)."""

    files: list[dict[str, Any]] = field(default_factory=list)
    holds: list[str] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    coverage_holds: list[str] = field(default_factory=list)

    @property
    def all_holds(self) -> list[str]:
        return [*self.holds, *self.coverage_holds]


NOTHING_CHANGED = (
    "nothing was loaded, archived or quarantined; the stored data is unchanged and the file(s) stay "
    "in the landing folder."
)


class HeldDeliveries(RuntimeError):
    """Validated files held by the volume guard or the completeness rule; nothing was loaded, and
    they stay in landing."""

    def __init__(self, assessment: Assessment):
        self.assessment = assessment
        sections = [("volume guard", assessment.holds), ("completeness rule", assessment.coverage_holds)]
        lines = []
        for rule, holds in sections:
            if holds:
                lines.append(
                    f"Held by the {rule}: {NOTHING_CHANGED}" if not lines else f"Also held by the {rule}:"
                )
                lines.extend(f"  - {hold}" for hold in holds)
        super().__init__(
            "\n".join(
                [
                    *lines,
                    "If this is intended, re-run with the run tag "
                    f"{ACCEPT_TAG}=<reason> (or the asset's config accept_volume_change: <reason>); "
                    "the reason is recorded in the materialization's metadata.",
                ]
            )
        )


def _share(part: int, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def _drop_holds(delivery: Delivery, replaced: int | None, what: str, settings: GuardSettings) -> list[str]:
    """The hold when the delivery has fewer rows than the ``what`` it replaces by more than allowed."""
    if replaced and delivery.rows < replaced * (1 - settings.max_drop_share):
        return [
            f"{delivery.file_name} has {delivery.rows:,} rows; the {what} it replaces has {replaced:,} "
            f"({_share(delivery.rows, replaced)} of it: a delivery may drop at most "
            f"{settings.max_drop_share:.0%}, max_drop_share)"
        ]
    return []


@dataclass(frozen=True)
class Stored:
    """What the warehouse holds of a table before a load: what the guard compares deliveries with.

    ``months``: rows per stored month of a monthly table. ``rows``: a dimension's stored rows (None:
    no table yet). ``used_keys``: the dimension's stored key values that stored facts use.
    """

    months: Mapping[date, int] = field(default_factory=dict)
    rows: int | None = None
    used_keys: frozenset[str] = frozenset()


def _keys(conn, schema: str, table: str, column: str) -> set[str]:
    if not table_exists(conn, schema, table):
        return set()
    sql = load_sql(SQL_DIR, "stored_keys", column=Fixed(quote(column)))
    return {value for (value,) in conn.execute(sql, {"table": f"{schema}.{table}"}).fetchall()}


def read_stored(conn: duckdb.DuckDBPyConnection | None, table: Table, *, monthly: bool) -> Stored:
    """What ``table`` holds now (``conn`` None: there is no warehouse yet)."""
    if conn is None or not table_exists(conn, table.schema, table.name):
        return Stored()
    if monthly:
        sql = load_sql(SQL_DIR, "stored_rows_per_month")
        return Stored(months=dict(conn.execute(sql, {"table": table.qualified_name}).fetchall()))
    rows = conn.execute(load_sql(SQL_DIR, "stored_rows"), {"table": table.qualified_name}).fetchall()[0][0]
    used: set[str] = set()
    if table.used_by:
        for use in table.used_by:
            fact, column = use.split(".")
            used |= _keys(conn, table.schema, fact, column)
        used &= _keys(conn, table.schema, table.name, table.key[0])
    return Stored(rows=rows, used_keys=frozenset(used))


def _check_month(
    delivery: Delivery, stored: Mapping[date, int], others: Sequence[int], settings: GuardSettings
) -> tuple[dict[str, Any], list[str]]:
    replaced = stored.get(delivery.month_start)
    typical = statistics.median(others) if len(others) >= 2 else None
    numbers = {"replaced_rows": replaced, "median_other_months": typical, "other_months": len(others)}
    holds = _drop_holds(delivery, replaced, "month", settings)
    if typical and delivery.rows < typical * settings.min_share_of_typical_month:
        holds.append(
            f"{delivery.file_name} has {delivery.rows:,} rows, {_share(delivery.rows, typical)} of the "
            f"median month ({typical:,.0f} rows over {len(others)} other months; at least "
            f"{settings.min_share_of_typical_month:.0%} expected, min_share_of_typical_month)"
        )
    return numbers, holds


def _check_dimension(
    table: Table, stored: Stored, delivery: Delivery, settings: GuardSettings
) -> tuple[dict[str, Any], list[str]]:
    numbers: dict[str, Any] = {"replaced_rows": stored.rows}
    holds = _drop_holds(delivery, stored.rows, table.name, settings)
    if stored.rows is not None and table.used_by and delivery.keys is not None:
        orphaned = sorted(stored.used_keys - delivery.keys)
        numbers["orphaned_keys"] = len(orphaned)
        numbers["orphaned_sample"] = orphaned[:MAX_KEYS_NAMED]
        if orphaned:
            named = ", ".join(orphaned[:MAX_KEYS_NAMED]) + (" …" if len(orphaned) > MAX_KEYS_NAMED else "")
            holds.append(
                f"{delivery.file_name} lacks {len(orphaned):,} {table.key[0]} value(s) that stored "
                f"{' / '.join(table.used_by)} use and the stored {table.name} has: {named}"
            )
    return numbers, holds


def assess(
    stored: Stored, table: Table, deliveries: Sequence[Delivery], settings: GuardSettings
) -> Assessment:
    """Compare ``deliveries`` of ``table`` with what was ``stored`` before the load."""
    assessment = Assessment()
    new = {delivery.month_start: delivery.rows for delivery in deliveries}
    for delivery in deliveries:
        if delivery.month_start is not None:
            months = {**stored.months, **new}
            others = [rows for month, rows in months.items() if month != delivery.month_start]
            numbers, holds = _check_month(delivery, stored.months, others, settings)
        else:
            numbers, holds = _check_dimension(table, stored, delivery, settings)
        assessment.files.append({"file": delivery.file_name, "rows": delivery.rows, **numbers, "held": holds})
        assessment.holds.extend(holds)
        if delivery.coverage is not None:
            incomplete = [] if delivery.coverage.complete else [delivery.coverage.describe()]
            assessment.coverage.append({**delivery.coverage.as_metadata(), "held": incomplete})
            assessment.coverage_holds.extend(incomplete)
    return assessment
