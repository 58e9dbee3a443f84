"""The read limit: DuckDB reading every landed file once into a table, and nothing else.

The physical floor for this data: each landed file is parsed once, with the types its raw table
declares (``RAW_TABLES[...].csv_columns()``) and the raw load's CSV options, into ``raw.<table>``
(one statement per table over all its files). No validation pass, no lineage columns, no staging
or marts, no Dagster. Every other variant reads at least this much; ``bench.run`` reports their
ratios to it beside their ratios to the floor.

The process imports duckdb and nothing of the pipeline (whose modules import dagster): the
measuring parent writes the files and column types to read into a plan (``write_plan``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

READ_ONCE = """
create table raw.{table} as
select * from read_csv(
    $path, header = true, nullstr = 'NA', auto_detect = false, strict_mode = true, columns = $columns
)
"""


def write_plan(plan_path: Path, landing_dir: Path) -> Path:
    """The raw tables to read, in the floor's order: each one's landed files and column types."""
    from bench.floor import STEPS
    from pipeline.defs.raw.tables import RAW_TABLES

    plan = [
        {
            "table": step.name,
            "paths": [str(path) for path, _ in step.landed_files(landing_dir)],
            "columns": RAW_TABLES[step.name].csv_columns(),
        }
        for step in STEPS
        if step.layer == "raw"
    ]
    plan_path.write_text(json.dumps(plan, indent=2))
    return plan_path


def run(database: Path, plan: list[dict]) -> dict[str, float]:
    """Read every planned file into ``database`` once; returns seconds per raw table."""
    seconds = {}
    with duckdb.connect(str(database)) as conn:
        conn.execute("create schema raw")
        for table in plan:
            started = time.perf_counter()
            conn.execute(
                READ_ONCE.format(table=table["table"]), {"path": table["paths"], "columns": table["columns"]}
            )
            seconds[f"raw.{table['table']}"] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--plan", type=Path, required=True, help="written by write_plan")
    args = parser.parse_args()
    print(json.dumps({"seconds_by_table": run(args.database, json.loads(args.plan.read_text()))}))


if __name__ == "__main__":
    main()
