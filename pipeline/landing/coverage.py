"""Completeness from the data's own shape: a monthly delivery covers the whole of its month.

A row count cannot tell a short month from a quiet one; the rows' own calendar can. A monthly raw
table declares what a complete month holds (``MonthCoverage``, beside its declaration in
``pipeline/defs/raw/``): a row for every day, or every hour, of the month in the month's own time
zone, for each value of a column whose values are a closed set (each origin of the data set) —
less at most ``max_missing`` days or hours per value, the gaps the source itself has.

The check runs on the file as parsed and checked (the view ``landed``, text as delivered), in one
query (``sql/month_coverage_gaps.sql``): the expected units of the month, computed here, anti-joined
with the units the rows hold. A file that does not cover its month is held like the volume guard's
holds (``guard.py``): nothing replaced, the file stays in landing, and the audited override loads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from pipeline.landing.domain import SQL_DIR, quote
from pipeline.months import MonthKey
from pipeline.warehouse.sql_files import Fixed, load_sql
from pipeline.warehouse.tables import Table

DAY, HOUR = "day", "hour"
UTC_HOUR_TEXT = "%Y-%m-%dT%H:00:00Z"  # how a UTC hour column writes its value (raw.tables UTC_HOUR)


@dataclass(frozen=True)
class MonthCoverage:
    """What a complete month of a monthly table holds.

    ``across``: a column with a closed set of values (a ``one_of`` rule); each value must cover the
    month. ``unit``: ``day`` (``when`` names the local date's year, month and day columns) or
    ``hour`` (``when`` names the one column holding the hour as a UTC instant, ``2013-03-10T07:00:00Z``).
    ``time_zone``: the zone whose calendar month (and days) the file covers. ``max_missing``: how
    many units of the month one value may lack and the month still count as complete.
    ``gap_phrase``: how a gap is told, ``{value}`` being the value (``no rows from {value}``).
    """

    across: str
    unit: str
    when: tuple[str, ...]
    time_zone: str
    gap_phrase: str
    max_missing: int = 0

    def validate(self, table: Table) -> MonthCoverage:
        """Itself, if every column it names is one of ``table``'s and ``across`` has a closed set."""
        expected_when = {DAY: 3, HOUR: 1}.get(self.unit)
        if expected_when is None or len(self.when) != expected_when:
            raise ValueError(f"{table.name}: unit {self.unit!r} with when={self.when} is not a coverage")
        for name in (self.across, *self.when):
            table.column(name)  # StopIteration names an unknown column
        self.across_values(table)
        return self

    def across_values(self, table: Table) -> list[str]:
        """The values that must each cover the month: the ``one_of`` rule of the ``across`` column."""
        sets = [rule.args[0] for rule in table.column(self.across).rules if rule.check == "isin"]
        if len(sets) != 1:
            raise ValueError(f"{table.name}.{self.across} has no closed set of values (a one_of rule)")
        return sorted(sets[0])

    def units(self, month_start: date) -> list[str]:
        """Every unit of the month starting ``month_start``, as the text ``unit_sql`` gives a row's."""
        next_month = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
        if self.unit == DAY:
            return [str(month_start + timedelta(days=n)) for n in range((next_month - month_start).days)]
        zone = ZoneInfo(self.time_zone)
        first, end = (
            datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
            for day in (month_start, next_month)
        )
        hours = int((end - first) / timedelta(hours=1))
        return [(first + timedelta(hours=n)).strftime(UTC_HOUR_TEXT) for n in range(hours)]

    def unit_sql(self) -> str:
        """A row's unit as text over the view ``landed``: its local date, or its UTC hour as delivered."""
        if self.unit == DAY:
            year, month, day = (f"landed.{quote(name)}::integer" for name in self.when)
            return f"make_date({year}, {month}, {day})::varchar"
        return f"landed.{quote(self.when[0])}"

    def show(self, unit: str) -> str:
        """A unit as a reader sees it: a day, or an hour on the local clock."""
        if self.unit == DAY:
            return unit
        instant = datetime.strptime(unit, UTC_HOUR_TEXT).replace(tzinfo=UTC)
        return instant.astimezone(ZoneInfo(self.time_zone)).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Gap:
    """The units of the month that one value of ``across`` has no row for (in order)."""

    value: str
    missing: tuple[str, ...]


@dataclass(frozen=True)
class CoverageFinding:
    """One monthly file's coverage: its gaps, and whether they exceed what the table allows."""

    file_name: str
    month_start: date
    coverage: MonthCoverage
    expected_units: int
    gaps: tuple[Gap, ...]

    @property
    def complete(self) -> bool:
        return all(len(gap.missing) <= self.coverage.max_missing for gap in self.gaps)

    def describe(self) -> str:
        """``t_2013-03.csv does not cover 2013-03: no rows from EWR, LGA on 2013-03-28…2013-03-31``."""
        month = MonthKey.from_date(self.month_start).label
        unit = self.coverage.unit
        told: dict[tuple[str, ...], list[str]] = {}
        for gap in self.gaps:
            told.setdefault(gap.missing, []).append(gap.value)
        parts = [
            f"{self.coverage.gap_phrase.format(value=', '.join(values))} "
            f"{'on' if unit == DAY else 'at'} {self._ranges(missing)} "
            f"({len(missing)} of {self.expected_units} {unit}s)"
            for missing, values in told.items()
        ]
        allowance = (
            f"at most {self.coverage.max_missing} {unit}(s) per {self.coverage.across} may be missing"
            if self.coverage.max_missing
            else f"every {unit} is expected"
        )
        zone = f" ({self.coverage.time_zone} time)" if unit == HOUR else ""
        return f"{self.file_name} does not cover {month}{zone}: {'; '.join(parts)}; {allowance}"

    def _ranges(self, missing: Sequence[str]) -> str:
        """Consecutive units as ``first…last``, the rest one by one."""
        position = {unit: index for index, unit in enumerate(self.coverage.units(self.month_start))}
        runs: list[list[str]] = []
        for unit in missing:
            if runs and position[unit] == position[runs[-1][-1]] + 1:
                runs[-1].append(unit)
            else:
                runs.append([unit])
        shown = [
            self.coverage.show(run[0])
            if len(run) == 1
            else f"{self.coverage.show(run[0])}…{self.coverage.show(run[-1])}"
            for run in runs
        ]
        return ", ".join(shown)

    def as_metadata(self) -> dict[str, object]:
        return {
            "file": self.file_name,
            "month": MonthKey.from_date(self.month_start).label,
            "unit": self.coverage.unit,
            "expected_per_value": self.expected_units,
            "max_missing_per_value": self.coverage.max_missing,
            "missing": {gap.value: len(gap.missing) for gap in self.gaps},
            "complete": self.complete,
        }


def check_coverage(
    conn: duckdb.DuckDBPyConnection, table: Table, coverage: MonthCoverage, file_name: str, month_start: date
) -> CoverageFinding:
    """How the parsed file (the view ``landed``) covers its month: every value's missing units."""
    units = coverage.units(month_start)
    sql = load_sql(
        SQL_DIR,
        "month_coverage_gaps",
        across=Fixed(quote(coverage.across)),
        unit_of_row=Fixed(coverage.unit_sql()),
    )
    rows = conn.execute(sql, {"across_values": coverage.across_values(table), "units": units}).fetchall()
    gaps = tuple(Gap(value, tuple(missing)) for value, missing in rows)
    return CoverageFinding(file_name, month_start, coverage, len(units), gaps)
