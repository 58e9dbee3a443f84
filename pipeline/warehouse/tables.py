"""One source of truth per table: its columns, their DuckDB types, one-line descriptions and rules.

Each layer declares its tables in ``pipeline/defs/<layer>/tables.py``; everything else is derived
from those declarations: the column schema the UI shows (``Table.column_schema``), the column map a
raw load parses landed files with (``Table.csv_columns``), the contract DuckDB checks on a staging
slice before it commits, and the pandera schema a mart DataFrame is validated with
(``pipeline.warehouse.contracts``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from pipeline.warehouse.connection import sql_code_reference


@dataclass(frozen=True)
class Rule:
    """A rule every non-null value of a column obeys, named as pandera names its built-in check."""

    # in_range, greater_than, greater_than_or_equal_to, less_than_or_equal_to, isin, str_matches, or
    # hhmm: a clock time written as hours * 100 + minutes, within (low, high), minutes under 60
    check: str
    args: tuple[Any, ...]

    @property
    def label(self) -> str:
        """``in_range(-240, 2880)``: how messages and the UI name the rule."""
        return f"{self.check}({', '.join(repr(arg) if isinstance(arg, (str, list)) else str(arg) for arg in self.args)})"

    def holds(self, column_sql: str, param: str) -> tuple[str, dict[str, Any]]:
        """A DuckDB predicate true for a value that obeys the rule, and its named parameters."""
        comparisons = {
            "greater_than": ">",
            "greater_than_or_equal_to": ">=",
            "less_than_or_equal_to": "<=",
        }
        if self.check in comparisons:
            return f"{column_sql} {comparisons[self.check]} ${param}", {param: self.args[0]}
        if self.check in ("in_range", "hhmm"):
            low, high = self.args
            minutes = f" and {column_sql} % 100 < 60" if self.check == "hhmm" else ""
            return (
                f"{column_sql} >= ${param}_min and {column_sql} <= ${param}_max{minutes}",
                {f"{param}_min": low, f"{param}_max": high},
            )
        if self.check == "isin":
            return f"list_contains(${param}, {column_sql})", {param: list(self.args[0])}
        if self.check == "str_matches":
            # pandera matches from the start of the string (re.match); so does this anchored pattern.
            return f"regexp_matches({column_sql}, ${param})", {param: f"^(?:{self.args[0]})"}
        raise ValueError(f"rule {self.check} has no DuckDB translation")

    def pandera_check(self):
        import pandera.pandas as pa

        if self.check == "hhmm":
            low, high = self.args
            return pa.Check(lambda values: values.between(low, high) & (values % 100 < 60), error=self.label)
        return getattr(pa.Check, self.check)(*self.args)


def in_range(low: float, high: float) -> Rule:
    return Rule("in_range", (low, high))


def greater_than(value: float) -> Rule:
    return Rule("greater_than", (value,))


def at_least(value: float) -> Rule:
    return Rule("greater_than_or_equal_to", (value,))


def at_most(value: float) -> Rule:
    return Rule("less_than_or_equal_to", (value,))


def one_of(values: Sequence[str]) -> Rule:
    return Rule("isin", (list(values),))


def matches(pattern: str) -> Rule:
    return Rule("str_matches", (pattern,))


def hhmm(low: int = 0, high: int = 2359) -> Rule:
    """A clock time as hours * 100 + minutes (830 is 08:30) between ``low`` and ``high``, minutes < 60."""
    return Rule("hhmm", (low, high))


@dataclass(frozen=True)
class RowRule:
    """A rule relating two columns of the same row, e.g. ``cancelled <= departures``."""

    left: str
    comparison: str  # one of <, <=, =, >=, >
    right: str

    @property
    def label(self) -> str:
        return f"{self.left} {self.comparison} {self.right}"

    def pandas_holds(self) -> Callable[[Any], Any]:
        compare = {"<": operator.lt, "<=": operator.le, "=": operator.eq, ">=": operator.ge, ">": operator.gt}
        return lambda frame: compare[self.comparison](frame[self.left], frame[self.right])


@dataclass(frozen=True)
class Agreement:
    """What the values of one row mean together: a DuckDB predicate over the row's columns.

    It holds for a row when it is true, or null because a value it needs is missing (say so in
    the predicate when a missing value matters: ``(dep_time is null) = (dep_delay is null)``).
    Usable wherever ``RowRule`` is in a DuckDB contract: ``left`` names the column a violation is
    reported under and ``label`` is the predicate itself.
    """

    columns: tuple[str, ...]
    predicate: str
    meaning: str  # one line for a reader: what a row that breaks it would mean

    @property
    def left(self) -> str:
        return self.columns[0]

    @property
    def label(self) -> str:
        return self.predicate

    def pandas_holds(self) -> Callable[[Any], Any]:
        raise NotImplementedError(f"agreement {self.predicate!r} is checked in DuckDB only")


@dataclass(frozen=True)
class Column:
    """A column: its DuckDB type as ``describe`` prints it, one line for a reader, and its rules."""

    name: str
    type: str
    description: str
    rules: tuple[Rule, ...] = ()
    nullable: bool = False
    unique: bool = False


def column(
    name: str, type: str, description: str, *rules: Rule, nullable: bool = False, unique: bool = False
) -> Column:
    return Column(name, type, description, rules, nullable, unique)


def carried(
    source: Table,
    source_column: str,
    description: str,
    *,
    name: str | None = None,
    type: str | None = None,
    nullable: bool = False,
    unique: bool = False,
) -> Column:
    """A column holding ``source_column``'s values (e.g. staging's copy of a raw column) under its
    rules: that column's name and type unless ``name`` or ``type`` is given."""
    held = source.column(source_column)
    return column(
        name or source_column,
        type or held.type,
        description,
        *held.rules,
        nullable=nullable,
        unique=unique,
    )


MONTHLY = "monthly"
WHOLE = "whole"


@dataclass(frozen=True)
class Table:
    """A warehouse table ``<schema>.<name>``: the asset ``<schema>/<name>`` and its contract."""

    schema: str
    name: str
    description: str
    columns: tuple[Column, ...]
    unique: tuple[str, ...] = ()  # a key over several columns; one-column keys set Column.unique
    row_rules: tuple[RowRule | Agreement, ...] = ()
    # "<table>.<column>" of other tables in the schema whose values are keys of this one (a
    # dimension's unique column): a new version may not drop a key they use.
    used_by: tuple[str, ...] = ()
    # A raw table's landed files: MONTHLY (``<name>_YYYY-MM.csv``, one partition per month) or WHOLE
    # (``<name>.csv``, the whole table each time); None for tables no file lands in.
    lands: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey([self.schema, self.name])

    @property
    def contract_name(self) -> str:
        """``StagingReadings`` (staging.readings): the Dagster type's name in the UI."""
        return "".join(part.capitalize() for part in f"{self.schema}_{self.name}".split("_"))

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    @property
    def key(self) -> tuple[str, ...]:
        """The columns that identify a row: the one-column key, or the several-column one."""
        single = tuple(column.name for column in self.columns if column.unique)
        return single or self.unique

    def column_schema(self) -> dg.TableSchema:
        """Names, DuckDB types, descriptions and rules, as the asset's Columns table shows them."""
        return dg.TableSchema(
            columns=[
                dg.TableColumn(
                    name=column.name,
                    type=column.type,
                    description=column.description,
                    constraints=dg.TableColumnConstraints(
                        nullable=column.nullable,
                        unique=column.unique,
                        other=[rule.label for rule in column.rules],
                    ),
                )
                for column in self.columns
            ],
            constraints=dg.TableConstraints(
                other=[f"unique ({', '.join(self.unique)})"] * bool(self.unique)
                + [rule.label for rule in self.row_rules]
            ),
        )

    def asset_properties(self, sql_name: str | None = None, **metadata: Any) -> dict[str, Any]:
        """Key, group (the schema), description and metadata of the asset that holds this table: its
        column schema, a link to ``pipeline/defs/<schema>/<sql_name or name>.sql``, and ``metadata``."""
        return {
            "key": self.asset_key,
            "group_name": self.schema,
            "description": self.description,
            "metadata": {
                "dagster/column_schema": self.column_schema(),
                **sql_code_reference(self.schema, sql_name or self.name),
                **metadata,
            },
        }

    def csv_columns(self, exclude_prefix: str = "_") -> dict[str, str]:
        """The columns a landed file holds, in order, with their types (lineage columns left out)."""
        return {c.name: c.type for c in self.columns if not c.name.startswith(exclude_prefix)}

    def lineage_metadata(self, sql: str, sources: Sequence[Table]) -> dict[str, Any]:
        """Materialization metadata: this table's column lineage as built by ``sql`` from ``sources``.

        ``dagster/column_lineage`` for Dagster's features and API, and ``column_lineage``, the same
        as a table a person reads in the UI.
        """
        # Imported here: every code-location load would otherwise import sqlglot.
        from pipeline.warehouse.lineage import column_lineage, lineage_markdown, table_column_lineage

        lineage = table_column_lineage(
            column_lineage(
                sql,
                {source.qualified_name: source.column_names for source in sources},
                sql_file=f"pipeline/defs/{self.schema}/{self.name}.sql",
            ),
            lambda name: dg.AssetKey(name.split(".")),
        )
        return {
            "dagster/column_lineage": lineage,
            "column_lineage": dg.MetadataValue.md(lineage_markdown(lineage)),
        }
