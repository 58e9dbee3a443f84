"""The tables declared as folders: ``pipeline/defs/<layer>/<table>/defs.yaml``, read into ``Table``s.

A folder's ``defs.yaml`` names the component type ``pipeline.components.WarehouseTable`` and holds
the table's declaration under ``attributes`` (``TableDeclaration``): its description and owner, and
each column's type, one-line description, nullability, key flag and rules. The folder's place gives
the table's schema (the layer) and name. Dagster builds each folder's assets and checks through the
component; the code that needs the declarations before that (the landing platform's
``LandedTables``, the deps of an asset's SQL) reads them here, through the same ``table()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import yaml
from pydantic import Field

from pipeline.constants import DEFS_DIR
from pipeline.defs import rules
from pipeline.defs.raw.landed_file import landed_file_table
from pipeline.landing.coverage import DAY, HOUR, MonthCoverage
from pipeline.warehouse import tables
from pipeline.warehouse.tables import MONTHLY, WHOLE, Agreement, Column, RowRule, Rule, Table

COMPONENT_TYPE = "pipeline.components.WarehouseTable"
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when PyYAML was built with it
LAYERS = ("raw", "staging", "marts", "reports")
# The rule helpers a declaration may call by name, e.g. ``- in_range: [-90, 90]``.
RULE_HELPERS = ("in_range", "greater_than", "at_least", "at_most", "one_of", "matches", "hhmm")
# The row rules of ``pipeline/defs/rules.py`` a declaration may call by name, e.g. ``- delay_agrees: dep``.
ROW_RULE_HELPERS = ("delay_agrees", "utc_hour_is_local")


def rule(written: str | dict[str, Any]) -> Rule:
    """A column rule as a declaration writes it: the name of a rule in ``pipeline/defs/rules.py``
    (``CARRIER_CODE``), or one helper of ``pipeline/warehouse/tables.py`` with its arguments
    (``{"in_range": [-90, 90]}``, ``{"one_of": ["A", "U", "N"]}``, ``{"matches": "^[A-Z]+$"}``)."""
    if isinstance(written, str):
        shared = getattr(rules, written, None)
        if not isinstance(shared, Rule):
            raise ValueError(f"{written!r} is no rule of pipeline/defs/rules.py")
        return shared
    [(helper, args)] = written.items()
    if helper not in RULE_HELPERS:
        raise ValueError(f"rule {helper!r} is none of {', '.join(RULE_HELPERS)}")
    make = getattr(tables, helper)
    return make(args) if helper == "one_of" or not isinstance(args, list) else make(*args)


def row_rule(written: dict[str, Any]) -> RowRule | Agreement:
    """A row rule as a declaration writes it: a DuckDB predicate (``columns``, ``holds``, ``meaning``),
    a comparison of two columns (``compare: cancelled_flights <= flights``), or a row rule of
    ``pipeline/defs/rules.py`` with its argument (``delay_agrees: dep``)."""
    if "holds" in written:
        return Agreement(tuple(written["columns"]), written["holds"], written["meaning"])
    if "compare" in written:
        left, comparison, right = written["compare"].split()
        return RowRule(left, comparison, right)
    [(helper, argument)] = written.items()
    if helper not in ROW_RULE_HELPERS:
        raise ValueError(f"row rule {helper!r} is none of holds, compare, {', '.join(ROW_RULE_HELPERS)}")
    return getattr(rules, helper)(argument)


class CoverageDeclaration(dg.Model, dg.Resolvable):
    """A raw monthly table's complete month (``pipeline.landing.coverage.MonthCoverage``)."""

    across: str
    unit: Literal[DAY, HOUR]
    when: tuple[str, ...]
    time_zone: str
    gap_phrase: str
    max_missing: int = 0


class ColumnDeclaration(dg.Model, dg.Resolvable):
    """One column: its DuckDB type, one line for a reader, nullability, key flag and rules.

    ``same_as: <schema>.<table>.<column>`` carries a folder-declared column's type and rules (staging's
    copy of a raw column); ``type`` then overrides only the type.
    """

    name: str | None = None
    description: str | None = None
    # a column several marts share, by its name in ``pipeline/defs/rules.py``'s SHARED_COLUMNS
    shared: str | None = None
    type: str | None = None
    same_as: str | None = None
    nullable: bool = False
    key: bool = False
    rules: tuple[str | dict[str, Any], ...] = ()

    def column(self, declared: dict[str, Table]) -> Column:
        if self.shared is not None:
            return _shared_column(self)
        if self.name is None or self.description is None:
            raise ValueError(f"a column needs a name and a description, or shared: {self}")
        carried = _source_column(self.same_as, declared) if self.same_as else None
        if carried is None and self.type is None:
            raise ValueError(f"column {self.name} needs a type or same_as")
        return tables.column(
            self.name,
            self.type or carried.type,
            self.description,
            *(carried.rules if carried else ()),
            *(rule(written) for written in self.rules),
            nullable=self.nullable,
            unique=self.key,
        )


class ReconciliationDeclaration(dg.Model, dg.Resolvable):
    """A mart's ``reconciles_with_staging``: its flights add up to staging's per ``grain``."""

    grain: str  # how a mismatch names a group: "carrier and month"
    described_grain: str  # how the check's description does: "per carrier and month"


class TableDeclaration(dg.Model):
    """What a table folder's ``defs.yaml`` declares under ``attributes``."""

    description: str
    owner: str
    columns: tuple[ColumnDeclaration, ...]
    # a key over several columns, in the order messages name them (a one-column key: ``key: true``)
    unique: tuple[str, ...] = ()
    # what the values of one row mean together (``row_rule``)
    row_rules: tuple[dict[str, Any], ...] = ()
    # raw: how the table's files land (monthly: ``<table>_YYYY-MM.csv``; whole: ``<table>.csv``)
    lands: Literal[MONTHLY, WHOLE] | None = None
    # raw: "<table>.<column>" of other raw tables whose values are keys of this one
    used_by: tuple[str, ...] = ()
    # raw: the columns key_values_filled requires (default: the key)
    key_values: tuple[str, ...] = ()
    # raw, monthly: what a complete month holds
    coverage: CoverageDeclaration | None = None
    # staging: the column that places a row in its month; the table is then partitioned by month
    partition_expr: str | None = None
    # marts: the blocking check with staging, ``reconciles_with_staging.sql`` beside the declaration
    reconciliation: ReconciliationDeclaration | None = None
    # staging: who joins to the table by its key, for the key check's description
    joined_by: str = "the marts"
    # staging: named SQL parameters that are files, relative to the folder
    file_params: dict[str, str] = Field(default_factory=dict)

    def table(self, layer: str, name: str, declared: dict[str, Table]) -> Table:
        """The ``Table`` ``<layer>.<name>``; ``declared`` holds the tables its same_as columns name."""
        columns = tuple(column.column(declared) for column in self.columns)
        keys_and_rules = {"unique": self.unique, "row_rules": tuple(row_rule(r) for r in self.row_rules)}
        if layer == "raw":
            lands = self.lands or WHOLE
            return landed_file_table(
                name, self.description, columns, lands=lands, used_by=self.used_by, **keys_and_rules
            )
        return Table(layer, name, self.description, columns, **keys_and_rules)

    def month_coverage(self, table: Table) -> MonthCoverage | None:
        """What a complete month of ``table`` holds, checked against its columns; None if undeclared."""
        if self.coverage is None:
            return None
        return MonthCoverage(**self.coverage.model_dump()).validate(table)

    def required_values(self, table: Table) -> tuple[str, ...]:
        return self.key_values or table.key

    def sql_params(self, folder: Path) -> dict[str, str]:
        return {name: str((folder / path).resolve()) for name, path in self.file_params.items()}


def read_declaration(folder: Path) -> TableDeclaration:
    """The declaration in ``folder/defs.yaml``, which must name the WarehouseTable component."""
    written = yaml.load((folder / "defs.yaml").read_text(), Loader=SAFE_LOADER)
    if written.get("type") != COMPONENT_TYPE:
        raise ValueError(f"{folder}/defs.yaml is not of type {COMPONENT_TYPE}")
    return TableDeclaration(**written.get("attributes", {}))


def table_folders() -> list[Path]:
    """Every table folder, raw first (staging columns carry raw ones), each layer by name."""
    return sorted(
        (path.parent for path in DEFS_DIR.glob("*/*/defs.yaml")),
        key=lambda folder: (LAYERS.index(folder.parent.name), folder.name),
    )


def _shared_column(declared: ColumnDeclaration) -> Column:
    if declared.model_dump(exclude_defaults=True).keys() != {"shared"}:
        raise ValueError(f"shared: {declared.shared} takes everything from rules.py; it has no other field")
    if declared.shared not in rules.SHARED_COLUMNS:
        raise ValueError(f"shared: {declared.shared} is none of {', '.join(rules.SHARED_COLUMNS)}")
    return rules.SHARED_COLUMNS[declared.shared]


def _source_column(reference: str, declared: dict[str, Table]) -> Column:
    """``raw.planes.year``: a column of a table declared in a folder read before this one."""
    table, column = reference.rsplit(".", 1)
    if table not in declared:
        raise ValueError(f"same_as {reference}: no table folder {table} is declared before it")
    return declared[table].column(column)


@dataclass(frozen=True)
class TableFolder:
    """A folder-declared table: the ``Table``, its declaration and its folder."""

    table: Table
    declaration: TableDeclaration
    folder: Path

    @property
    def sql_params(self) -> dict[str, str]:
        return self.declaration.sql_params(self.folder)


@cache
def folder_tables() -> dict[str, TableFolder]:
    """Each folder-declared table by "schema.table"."""
    declared: dict[str, TableFolder] = {}
    for folder in table_folders():
        declaration = read_declaration(folder)
        tables_so_far = {name: found.table for name, found in declared.items()}
        table = declaration.table(folder.parent.name, folder.name, tables_so_far)
        declared[table.qualified_name] = TableFolder(table, declaration, folder)
    return declared


def declared_tables_by_name() -> dict[str, Table]:
    return {name: found.table for name, found in folder_tables().items()}


def declared_tables(layer: str) -> list[Table]:
    """The layer's folder-declared tables, by name."""
    return [found.table for found in folder_tables().values() if found.table.schema == layer]


def declared_table(layer: str, name: str) -> Table:
    return folder_tables()[f"{layer}.{name}"].table
