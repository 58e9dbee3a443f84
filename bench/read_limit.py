"""The read limit: DuckDB reading every landed file once into a table, and nothing else.

The physical floor for this data: each landed file is parsed once, with the types its raw table
declares (``RAW_TABLES[...].csv_columns()``) and the raw load's CSV options, into ``raw.<table>``
(one statement per table over all its files). No validation pass, no lineage columns, no staging
or marts, no Dagster. Every other variant reads at least this much; ``bench.run`` reports their
ratios to it beside their ratios to the floor.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

from bench.floor import STEPS
from pipeline.defs.raw.tables import RAW_TABLES

READ_ONCE = """
create table raw.{table} as
select * from read_csv(
    $path, header = true, nullstr = 'NA', auto_detect = false, strict_mode = true, columns = $columns
)
"""


def run(database: Path, landing_dir: Path) -> dict[str, float]:
    """Read every landed file into ``database`` once; returns seconds per raw table."""
    seconds = {}
    with duckdb.connect(str(database)) as conn:
        conn.execute("create schema raw")
        for step in STEPS:
            if step.layer != "raw":
                continue
            started = time.perf_counter()
            paths = [str(path) for path, _ in step.landed_files(landing_dir)]
            conn.execute(
                READ_ONCE.format(table=step.name),
                {"path": paths, "columns": RAW_TABLES[step.name].csv_columns()},
            )
            seconds[step.table] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--landing-dir", type=Path, required=True)
    args = parser.parse_args()
    print(json.dumps({"seconds_by_table": run(args.database, args.landing_dir)}))


if __name__ == "__main__":
    main()
