"""The naive pandas path: the floor's SQL, but every table's rows make a round trip through pandas.

The landed files are validated as in the floor (``bench.floor.validate_landed_file``).

This is what a pipeline whose assets return DataFrames does with a pandas IO manager: the query
result (the fact tables included) is fetched into a DataFrame, then written back from it. The
table is declared with the types of the SQL's result, so the downstream SQL sees the same schema
as in the floor (pandas would otherwise turn nullable integers into floats), and the DataFrame is
inserted by column name.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

from bench.floor import STEPS, validate_landed_file
from pipeline.warehouse.connection import read_sql


def run(database: Path, landing_dir: Path) -> dict[str, float]:
    """Build every table into ``database`` through DataFrames; returns seconds per table."""
    seconds = {}
    conn = duckdb.connect(str(database))
    try:
        conn.execute("set TimeZone = 'UTC'")
        for step in STEPS:
            started = time.perf_counter()
            for path, month_start in step.landed_files(landing_dir):
                validate_landed_file(path, step.name, month_start)
            sql, params = read_sql(step.layer, step.sql or step.name), step.params(landing_dir)
            for function in step.functions:
                function.register(conn)
            frame = conn.execute(sql, params).fetchdf()
            conn.execute(f"create schema if not exists {step.layer}")
            conn.execute(f"create or replace table {step.table} as from ({sql}) limit 0", params)
            conn.register("_frame", frame)
            conn.execute(f"insert into {step.table} by name select * from _frame")
            conn.unregister("_frame")
            del frame
            seconds[step.table] = time.perf_counter() - started
    finally:
        conn.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--landing-dir", type=Path, required=True)
    args = parser.parse_args()
    print(json.dumps({"seconds_by_table": run(args.database, args.landing_dir)}))


if __name__ == "__main__":
    main()
