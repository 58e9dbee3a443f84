"""The raw tables that landed files feed, and how their files are named, from the tables' declarations.

A declaration (a ``Table`` with ``lands`` set) says whether a table's files hold one month
(``<table>_YYYY-MM.csv``) or the whole table (``<table>.csv``). The landing code knows no table by
name: it is handed a ``LandedTables`` built from the declarations and asks it which table, and which
month, a file name stands for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dagster as dg

from pipeline.months import MonthKey
from pipeline.warehouse.tables import MONTHLY, WHOLE, Table

CSV_SUFFIX = ".csv"
# Any table's monthly name; whether the table lands monthly is the declarations' to say.
# ASCII digits only: \d would also take full-width and other Unicode digits (x_2013-０６.csv).
_MONTHLY_NAME = re.compile(r"^(?P<table>[a-z][a-z0-9_]*)_(?P<month>[0-9]{4}-[0-9]{2})\.csv$")


@dataclass(frozen=True)
class MonthlyFile:
    """A monthly landed file: ``MonthlyFile("t", MonthKey(2013, 1)).name == "t_2013-01.csv"``."""

    table: str
    month: MonthKey

    @property
    def name(self) -> str:
        return f"{self.table}_{self.month.label}{CSV_SUFFIX}"

    @property
    def partition_key(self) -> str:
        return self.month.partition_key


def monthly_file_name(table: str, partition_key: str) -> str:
    """``("t", "2013-01-01")`` → ``t_2013-01.csv``."""
    return MonthlyFile(table, MonthKey.from_partition_key(partition_key)).name


def whole_file_name(table: str) -> str:
    return f"{table}{CSV_SUFFIX}"


def monthly_name_parts(name: str) -> MonthlyFile | None:
    """The table and month a monthly-shaped ``name`` carries, whatever the table."""
    match = _MONTHLY_NAME.match(name)
    return MonthlyFile(match["table"], MonthKey.from_label(match["month"])) if match else None


def describe_delivery(delivery: str) -> str:
    """``t_2013-03.csv`` → ``t 2013-03``; ``d.csv`` → ``d``."""
    monthly = monthly_name_parts(delivery)
    return f"{monthly.table} {monthly.month}" if monthly else delivery.removesuffix(CSV_SUFFIX)


@dataclass(frozen=True)
class LandedTables:
    """The declared raw tables that files land in: ``monthly`` and ``whole``, each by table name."""

    monthly: Mapping[str, Table]
    whole: Mapping[str, Table]

    @classmethod
    def from_declarations(cls, tables: Iterable[Table]) -> LandedTables:
        """The tables whose declaration says how their files land, in the order declared."""
        declared = list(tables)
        return cls(
            {table.name: table for table in declared if table.lands == MONTHLY},
            {table.name: table for table in declared if table.lands == WHOLE},
        )

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.monthly, *self.whole)

    @property
    def asset_keys(self) -> list[dg.AssetKey]:
        return [self.declaration(name).asset_key for name in self.names]

    def declaration(self, table: str) -> Table:
        return self.monthly.get(table) or self.whole[table]

    @property
    def whole_files(self) -> dict[str, str]:
        """``<table>.csv`` → table, for the tables delivered whole."""
        return {whole_file_name(table): table for table in self.whole}

    @property
    def expected_names(self) -> str:
        """The landing file names these tables take, as a message lists them."""
        monthly = [f"{table}_YYYY-MM{CSV_SUFFIX}" for table in self.monthly]
        return (
            ", ".join([*monthly, *sorted(self.whole_files)])
            + ", each optionally gzip-compressed as <name>.csv.gz"
        )

    def monthly_file(self, name: str) -> MonthlyFile | None:
        """The monthly file ``name`` is (``t_2013-01.csv`` of a monthly table), or None."""
        parts = monthly_name_parts(name)
        return parts if parts is not None and parts.table in self.monthly else None

    def table_of_file(self, name: str) -> tuple[Table, MonthKey | None] | None:
        """The declared table a plain ``.csv`` landing file name feeds, and its month if monthly."""
        if (monthly := self.monthly_file(name)) is not None:
            return self.monthly[monthly.table], monthly.month
        table = self.whole_files.get(name)
        return (self.whole[table], None) if table is not None else None
