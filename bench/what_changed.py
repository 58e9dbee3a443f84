"""What a raw load's diff costs on one month of flights: keeping the replaced rows, and the one join.

``python -m bench.what_changed --rows 20000000 [--work-dir DIR] [--repeat 3]``

March is scaled to ``--rows`` flights (``bench.generate.scaled_lines``, cached under the work
folder) and loaded into ``raw.flights`` of a DuckDB file with the warehouse's default threads and
memory limit. Each round then does, in one transaction that it rolls back, what a correction of the
month does in the raw load (``pipeline/warehouse/changes.py``): keep the stored month
(``keep_replaced_rows``), delete it, insert the corrected month (every row but 5, one with a changed
arrival, one added) and compare the two on the key (``what_changed``). Only the keep and the
comparison are the diff's cost; the delete and insert are timed beside them for scale. Prints one
JSON object with the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import duckdb

from bench.generate import DEFAULT_SEED, scaled_lines
from pipeline.defs.raw import seed
from pipeline.defs.raw.tables import FLIGHTS
from pipeline.warehouse import changes
from pipeline.warehouse.connection import DEFAULT_MEMORY_LIMIT, DEFAULT_THREADS
from pipeline.warehouse.type_handlers import create_table_sql

MONTH = "2013-03"
IN_MONTH = "make_date(year, month, day) >= '2013-03-01' and make_date(year, month, day) < '2013-04-01'"
MONTH_SLICE = f"select * from raw.flights where {IN_MONTH}"  # as the IO manager selects a partition
CORRECTION = (
    """
insert into raw.flights
select replaced_rows.* replace (
    case when replaced_rows.rowid = $changed then replaced_rows.arr_delay + 1 else replaced_rows.arr_delay end
        as arr_delay
)
from replaced_rows
where replaced_rows.rowid not in (select unnest($removed))
""",
    """
insert into raw.flights
select replaced_rows.* replace (9999 as flight, 31 as day)
from replaced_rows
where replaced_rows.rowid = $changed
""",
)


def month_file(work_dir: Path, rows: int) -> Path:
    """March scaled to ``rows`` flights, written once under ``work_dir``."""
    target = work_dir / f"flights_{MONTH}_{rows}.csv"
    if not target.exists():
        seeded = work_dir / "seeded"
        seed.seed(seeded, [MONTH])
        header, *lines = (seeded / f"flights_{MONTH}.csv").read_bytes().splitlines(keepends=True)
        partial = target.with_suffix(".part")
        with open(partial, "wb") as out:
            out.write(header)
            out.writelines(scaled_lines(lines, rows, DEFAULT_SEED, MONTH))
        partial.replace(target)
    return target


def load_month(conn: duckdb.DuckDBPyConnection, path: Path) -> int:
    conn.execute("create schema if not exists raw").fetchall()
    conn.execute(create_table_sql("raw.flights", {c.name: c.type for c in FLIGHTS.columns})).fetchall()
    conn.execute(
        "insert into raw.flights by name select *, 'bench' as _source_file, 'bench' as _source_version, "
        "current_timestamp as _loaded_at from read_csv($path, header = true, nullstr = 'NA', "
        "auto_detect = false, columns = $columns)",
        {"path": str(path), "columns": FLIGHTS.csv_columns()},
    ).fetchall()
    return conn.execute("select count(*) from raw.flights").fetchall()[0][0]


def one_round(conn: duckdb.DuckDBPyConnection) -> dict[str, float]:
    timings: dict[str, float] = {}

    def timed(name: str, action) -> object:
        start = time.perf_counter()
        result = action()
        timings[name] = time.perf_counter() - start
        return result

    conn.execute("begin transaction").fetchall()
    try:
        timed("keep_replaced_rows_s", lambda: changes.keep_replaced_rows(conn, MONTH_SLICE))
        timed("delete_s", lambda: conn.execute(f"delete from raw.flights where {IN_MONTH}").fetchall())
        # row ids of a table created inside a transaction do not start at 0: pick them
        picked = (
            "select rowid from replaced_rows where arr_delay is not null order by rowid limit 6 offset 100"
        )
        changed, *removed = [row for (row,) in conn.execute(picked).fetchall()]
        params = {"changed": changed, "removed": removed}
        corrected, added = CORRECTION
        timed(
            "insert_s",
            lambda: (
                conn.execute(corrected, params).fetchall(),
                conn.execute(added, {"changed": params["changed"]}).fetchall(),
            ),
        )
        found = timed("what_changed_s", lambda: changes.what_changed(conn, FLIGHTS, f"({MONTH_SLICE})"))
        assert (found.rows_added, found.rows_removed, found.rows_changed) == (1, 5, 1), found
    finally:
        conn.execute("rollback").fetchall()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=28_834, help="flights in the month (real March: 28,834)")
    parser.add_argument("--work-dir", type=Path, default=Path("bench/work/what_changed"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    path = month_file(args.work_dir, args.rows)
    database = args.work_dir / f"what_changed_{args.rows}.duckdb"
    database.unlink(missing_ok=True)
    config = {"threads": DEFAULT_THREADS, "memory_limit": DEFAULT_MEMORY_LIMIT}
    with duckdb.connect(str(database), config=config) as conn:
        rows = load_month(conn, path)
        rounds = [one_round(conn) for _ in range(args.repeat)]
    database.unlink(missing_ok=True)
    medians = {name: round(statistics.median(r[name] for r in rounds), 4) for name in rounds[0]}
    diff = medians["keep_replaced_rows_s"] + medians["what_changed_s"]
    print(json.dumps({"rows": rows, **config, "repeat": args.repeat, **medians, "diff_s": round(diff, 4)}))


if __name__ == "__main__":
    main()
