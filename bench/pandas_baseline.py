"""The naive pandas path: the floor's SQL, but every table's rows make a round trip through pandas.

The landed files are parsed and checked as in the floor (``bench.floor.load_landed_files``).

This is what a pipeline whose assets return DataFrames does with a pandas IO manager: the query
result (the fact tables included) is fetched into a DataFrame, then written back from it. The
table is declared with the types of the SQL's result, so the downstream SQL sees the same schema
as in the floor (pandas would otherwise turn nullable integers into floats), and the DataFrame is
inserted by column name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from bench import floor


def _through_dataframe(
    conn: duckdb.DuckDBPyConnection, step: floor.Step, sql: str, params: dict[str, Any], *, append: bool
) -> None:
    frame = conn.execute(sql, params).fetchdf()
    if not append:
        conn.execute(f"create or replace table {step.table} as from ({sql}) limit 0", params)
    conn.register("_frame", frame)
    conn.execute(f"insert into {step.table} by name select * from _frame")
    conn.unregister("_frame")


def run(database: Path, landing_dir: Path) -> dict[str, float]:
    """Build every table into ``database`` through DataFrames; returns seconds per table."""
    return floor.build_tables(database, landing_dir, _through_dataframe)


if __name__ == "__main__":
    floor.main(run, __doc__)
