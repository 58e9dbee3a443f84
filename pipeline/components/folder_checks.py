"""A table folder's ``checks/<name>.sql``: a check its declaration cannot express, as one query.

The query selects the rows that break the rule; the check passes when there are none. Its leading
``--`` comment is the check's description and states its severity as every check's does
(``pipeline/warehouse/checks.py``): "ERROR, blocking: …" blocks downstream steps, "ERROR …" fails
without blocking, anything else is a WARN. The tables the query reads besides its own are the
check's further deps.
"""

from itertools import takewhile
from pathlib import Path

import dagster as dg

from pipeline.defs.asset_sql import READABLE_TABLES
from pipeline.defs.tables_read_cache import CODE_LOCATION_TABLES_READ
from pipeline.warehouse.checks import SampleConfig, result, rows, table_check
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.sql_files import load_sql
from pipeline.warehouse.tables import Table


def folder_sql_checks(table: Table, folder: Path) -> list[dg.AssetChecksDefinition]:
    """One check per ``folder/checks/*.sql``, named after the file."""
    return [_sql_check(table, path) for path in sorted((folder / "checks").glob("*.sql"))]


def _sql_check(table: Table, path: Path) -> dg.AssetChecksDefinition:
    sql = load_sql(path.parent, path.stem)
    comment = takewhile(lambda line: line.startswith("--"), sql.splitlines())
    description = " ".join(line.removeprefix("--").strip() for line in comment)
    if not description:
        raise ValueError(f"{path} opens with no -- comment describing the check and its severity")
    severity = dg.AssetCheckSeverity.ERROR if description.startswith("ERROR") else dg.AssetCheckSeverity.WARN
    read = sorted(CODE_LOCATION_TABLES_READ.tables_read(sql, sql_file=path) - {table.qualified_name})
    reads = [READABLE_TABLES[name] for name in read]

    @table_check(table, path.stem, description, reads=reads)
    def sql_check(config: SampleConfig, warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as connection:
            breaking = rows(connection, sql)
        return result(
            passed=not breaking,
            severity=severity,
            description=(
                f"{table.qualified_name}: no row breaks {path.stem}."
                if not breaking
                else f"{table.qualified_name}: {len(breaking):,} row(s) break {path.stem}."
            ),
            failing_rows=len(breaking),
            sample=breaking[: config.sample_size],
        )

    return sql_check
