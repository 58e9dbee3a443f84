"""The floor: the pipeline's SQL files run straight on DuckDB, no Dagster, no Python around them.

Every SQL file a full run executes is run here with the same parameters and in the pipeline's
order: each landed file is parsed, checked by every rule and inserted in one statement into the
table declared in ``pipeline/defs/raw/tables.py`` (``pipeline.landing.checked_insert``, its SQL in
``pipeline/landing/sql``), or, if it is not sound, diagnosed by the ingest (``pipeline.landing.ingest``)
and inserted from that parse by the raw SQL;
then staging and marts, created with ``create or replace table ... as``. Each statement is
autocommitted.

What the pipeline does beyond that is its own cost and has no counterpart here: copying and hashing
landed files into the archive, Dagster's bookkeeping, the data contracts checked on each written
table, the IO manager's metadata, the model fitted from ``weather_delay_moments`` (numpy) and the
report (matplotlib). No Dagster run, instance or IO manager is involved (the modules that hold the
SQL parameters do import dagster).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from pipeline.defs.raw.tables import RAW_TABLES
from pipeline.defs.rules import MAX_PLAUSIBLE_WIND_MPH
from pipeline.defs.staging.assets import AIRPORT_TIMEZONE_SUPPLEMENT, OFFSETS_RANGE
from pipeline.defs.staging.time_zones import ZONEINFO_OFFSET_PERIODS
from pipeline.landing import ingest
from pipeline.landing.checked_insert import insert_if_sound
from pipeline.landing.landed_tables import monthly_file_name, whole_file_name
from pipeline.warehouse.connection import read_sql
from pipeline.warehouse.outputs import SqlFunction
from pipeline.warehouse.type_handlers import create_table_sql

FIRST_MONTH, END_MONTH = "2013-01-01", "2014-01-01"
MONTH_KEYS = [f"2013-{month:02d}-01" for month in range(1, 13)]


@dataclass(frozen=True)
class Step:
    """One table: ``pipeline/defs/<layer>/<name>.sql`` built into ``<layer>.<name>``."""

    layer: str
    name: str
    params: Callable[[Path], dict[str, Any]]
    # the SQL file under pipeline/defs/<layer>/, when it is not <name>.sql (a table folder's: <name>/<name>)
    sql: str | None = None
    # (file, first day of its month or None) validated before the load, for raw tables
    landed_files: Callable[[Path], list[tuple[Path, str | None]]] = field(default=lambda _: [])
    # False for a query whose small result the pipeline keeps outside the warehouse
    stored_by_pipeline: bool = True
    # Python functions the SQL calls, registered on the connection as the IO manager does
    functions: tuple[SqlFunction, ...] = ()

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"


def _dimension(table: str) -> dict[str, Any]:
    return {
        "params": _no_params,
        "landed_files": lambda landing_dir: [(landing_dir / whole_file_name(table), None)],
        "sql": "landed_file",
    }


def _monthly(table: str) -> dict[str, Callable]:
    def files(landing_dir: Path) -> list[tuple[Path, str | None]]:
        return [(landing_dir / monthly_file_name(table, key), key) for key in MONTH_KEYS]

    return {"params": _no_params, "landed_files": files, "sql": "landed_file"}


def _no_params(landing_dir: Path) -> dict[str, Any]:
    return {}


def _all_months(landing_dir: Path) -> dict[str, Any]:
    return {"window_start": FIRST_MONTH, "window_end": END_MONTH}


def _airport_supplement(landing_dir: Path) -> dict[str, Any]:
    return {"supplement_path": str(AIRPORT_TIMEZONE_SUPPLEMENT)}


def _offsets_range(landing_dir: Path) -> dict[str, Any]:
    return dict(OFFSETS_RANGE)


def _plausible_wind(landing_dir: Path) -> dict[str, Any]:
    return {"max_plausible_wind_mph": MAX_PLAUSIBLE_WIND_MPH}


# The order the in-process executor runs the assets in (layer by layer).
STEPS = [
    Step("raw", "airlines", **_dimension("airlines")),
    Step("raw", "airports", **_dimension("airports")),
    Step("raw", "flights", **_monthly("flights")),
    Step("raw", "planes", **_dimension("planes")),
    Step("raw", "weather", **_monthly("weather")),
    Step("staging", "airlines", _no_params, sql="airlines/airlines"),
    Step("staging", "airports", _airport_supplement, sql="airports/airports"),
    Step("staging", "planes", _no_params, sql="planes/planes"),
    Step("staging", "weather", _all_months, sql="weather/weather"),
    Step("staging", "time_zone_offsets", _offsets_range, functions=(ZONEINFO_OFFSET_PERIODS,)),
    Step("staging", "flights", _all_months, sql="flights/flights"),
    Step(
        "marts",
        "carrier_monthly_performance",
        _no_params,
        sql="carrier_monthly_performance/carrier_monthly_performance",
    ),
    Step("marts", "fleet_performance", _no_params, sql="fleet_performance/fleet_performance"),
    Step("marts", "route_performance", _no_params, sql="route_performance/route_performance"),
    Step("marts", "weather_delay_moments", _plausible_wind, stored_by_pipeline=False),
    Step("marts", "weather_impact", _no_params, sql="weather_impact/weather_impact"),
]


def load_landed_files(
    conn: duckdb.DuckDBPyConnection,
    step: Step,
    landing_dir: Path,
    build: Callable[..., None],
    *,
    one_pass: bool = False,
) -> None:
    """The raw load as a run does it: the declared table, then each file parsed and checked by the
    ingest (``pipeline.landing.ingest``) and its rows appended with ``build``; with ``one_pass``, a
    sound file parsed, checked and inserted in one statement first (``checked_insert``), as a run does.

    Only the work is reproduced, not the verdict: a file the pipeline would reject shows up as
    tables that differ from the pipeline's.
    """
    table = RAW_TABLES[step.name]
    conn.execute(create_table_sql(step.table, {c.name: c.type for c in table.columns}))
    sql = read_sql(step.layer, step.sql or step.name)
    for path, month_key in step.landed_files(landing_dir):
        month_start = date.fromisoformat(month_key) if month_key else None
        lineage = {"source_file": path.name, "source_version": "unarchived"}
        framed = ingest.frame_landed_file(path, table)
        if (
            one_pass
            and insert_if_sound(conn, step.table, table, path, month_start, framed, lineage) is not None
        ):
            continue
        ingest.inspect_landed_file(path, table, month_start, conn=conn, framed=framed)
        build(conn, step, sql, lineage, append=True)


def build_tables(
    database: Path, landing_dir: Path, build: Callable[..., None], *, one_pass: bool = False
) -> dict[str, float]:
    """Each step in order on one connection to ``database``: raw tables by ``load_landed_files``, the
    others by ``build(conn, step, sql, params, append=False)`` after their functions are registered;
    returns seconds per table (the ingest's checks included)."""
    seconds = {}
    conn = duckdb.connect(str(database))
    try:
        conn.execute("set TimeZone = 'UTC'")
        for step in STEPS:
            started = time.perf_counter()
            conn.execute(f"create schema if not exists {step.layer}")
            if step.layer == "raw":
                load_landed_files(conn, step, landing_dir, build, one_pass=one_pass)
            else:
                for function in step.functions:
                    function.register(conn)
                sql = read_sql(step.layer, step.sql or step.name)
                build(conn, step, sql, step.params(landing_dir), append=False)
            seconds[step.table] = time.perf_counter() - started
    finally:
        conn.close()
    return seconds


def _create_table(
    conn: duckdb.DuckDBPyConnection, step: Step, sql: str, params: dict[str, Any], *, append: bool
) -> None:
    if append:
        conn.execute(f"insert into {step.table} by name ({sql})", params)
    else:
        conn.execute(f"create or replace table {step.table} as ({sql})", params)


def run(database: Path, landing_dir: Path) -> dict[str, float]:
    """Build every table into ``database``; returns seconds per table (its validation included)."""
    return build_tables(database, landing_dir, _create_table, one_pass=True)


def main(run_tables: Callable[[Path, Path], dict[str, float]] = run, doc: str = __doc__) -> None:
    """The command line of a variant that builds the tables with ``run_tables``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--landing-dir", type=Path, required=True)
    args = parser.parse_args()
    print(json.dumps({"seconds_by_table": run_tables(args.database, args.landing_dir)}))


if __name__ == "__main__":
    main()
