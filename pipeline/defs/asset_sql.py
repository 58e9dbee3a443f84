"""An asset's SQL file and the declared tables it reads: the asset's deps, written once.

sqlglot finds the tables ``pipeline/defs/<layer>/<table>/<table>.sql`` reads (``from
staging.some_table``, pipeline/warehouse/lineage.py; recorded per text in tables_read_cache.json so
a load need not run it) and each is looked up among the declared tables (the table folders, and
staging's time_zone_offsets), so a dependency lives in the SQL alone. A file the SQL reads
(``read_csv($path)``) is not a table and adds no dependency.
"""

from dataclasses import dataclass

import dagster as dg

from pipeline.defs.declarations import declared_tables_by_name
from pipeline.defs.staging.tables import TIME_ZONE_OFFSETS
from pipeline.defs.tables_read_cache import CODE_LOCATION_TABLES_READ
from pipeline.warehouse.connection import read_sql
from pipeline.warehouse.tables import Table

READABLE_TABLES = declared_tables_by_name() | {TIME_ZONE_OFFSETS.qualified_name: TIME_ZONE_OFFSETS}


@dataclass(frozen=True)
class SqlFile:
    """The text of a SQL file and the declared tables it reads, in name order."""

    path: str
    sql: str
    reads: tuple[Table, ...]

    @property
    def deps(self) -> list[dg.AssetKey]:
        return [table.asset_key for table in self.reads]


def sql_file(layer: str, name: str) -> SqlFile:
    """``pipeline/defs/<layer>/<name>.sql`` (``<table>/<table>`` in a table folder); every table it
    reads must be declared."""
    path = f"pipeline/defs/{layer}/{name}.sql"
    sql = read_sql(layer, name)
    read = sorted(CODE_LOCATION_TABLES_READ.tables_read(sql, sql_file=path))
    undeclared = [table for table in read if table not in READABLE_TABLES]
    if undeclared:
        raise ValueError(f"{path} reads {undeclared}, which no table folder or staging tables.py declares")
    return SqlFile(path, sql, tuple(READABLE_TABLES[table] for table in read))
