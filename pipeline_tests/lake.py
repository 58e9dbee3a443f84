"""Test helpers for the DuckLake backend: a PostgreSQL catalog database per test, and the checks
every lake test makes (``count(*)`` against a full scan, rows per month).

Each catalog is a database created for the test on 127.0.0.1:5432 (trust) and dropped with
``force`` afterwards, as the deployment tests do (pipeline_tests/stack_harness.py).
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psycopg2
import pytest
from psycopg2 import sql

from pipeline import constants
from pipeline.warehouse import ducklake

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}

# The lake's extensions install offline from wheels made for one duckdb version (the `lake` extra,
# in an environment of its own: .venv-lake). Elsewhere the lake tests are skipped, not failed.
LAKE_EXTENSIONS_INSTALLED = all(
    ducklake.wheel_extension(module, stem) for _, module, stem in ducklake.EXTENSIONS
)


def requires_lake(test):
    """Marks ``test`` as a lake test (``pytest -m lake``), skipped where the extensions are absent."""
    skip = pytest.mark.skipif(
        not LAKE_EXTENSIONS_INSTALLED,
        reason=f"no DuckLake extension wheels for duckdb {duckdb.__version__}: the lake tests run in "
        ".venv-lake (bash deploy/test.sh runs them there: .venv-lake/bin/pytest -m lake)",
    )
    return pytest.mark.lake(skip(test))


def catalog_string(database: str) -> str:
    return f"dbname={database} host={PG['host']} port={PG['port']} user={PG['user']}"


@contextmanager
def lake_catalog(prefix: str = "flights_lake") -> Iterator[str]:
    """A fresh PostgreSQL database for a lake's catalog; yields its libpq connection string."""
    database = f"{prefix}_{secrets.token_hex(4)}"
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
        yield catalog_string(database)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
            )
        admin.close()


def lake_environment(catalog: str, data_path: Path) -> dict[str, str]:
    """The variables that select the lake for the code location."""
    return {
        constants.WAREHOUSE_BACKEND_ENV: "ducklake",
        constants.DUCKLAKE_CATALOG_ENV: catalog,
        constants.DUCKLAKE_DATA_PATH_ENV: str(data_path),
    }


@contextmanager
def lake_connection(
    catalog: str, data_path: Path, read_only: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    with ducklake.connect(catalog, data_path, read_only=read_only) as conn:
        yield conn


def lake_tables(conn: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        f"{schema}.{table}"
        for schema, table in conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = ? and table_type = 'BASE TABLE' order by all",
            [ducklake.LAKE],
        ).fetchall()
    ]


def count_and_scan(conn: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """``count(*)`` (which DuckLake may answer from its metadata) and the rows a full scan reads.

    ``sum(1)`` reads every row: on a corrupted table (two deletes on one data file both committed)
    the two differ.
    """
    count = conn.execute(f"select count(*) from {table}").fetchone()[0]
    scanned = conn.execute(f"select coalesce(sum(1), 0) from {table}").fetchone()[0]
    return count, scanned


def inconsistent_tables(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Every table whose ``count(*)`` differs from a full scan (empty when the lake is sound)."""
    found = {}
    for table in lake_tables(conn):
        count, scanned = count_and_scan(conn, table)
        if count != scanned:
            found[table] = (count, scanned)
    return found


def flights_by_month(conn: duckdb.DuckDBPyConnection, table: str = "staging.flights") -> dict[int, int]:
    return dict(conn.execute(f"select month, count(*) from {table} group by 1 order by 1").fetchall())


def csv_rows(path: Path) -> int:
    with duckdb.connect() as conn:
        return conn.execute("select count(*) from read_csv(?, header = true)", [str(path)]).fetchone()[0]


def redeliver_smaller(path: Path, dropped_rows: int) -> int:
    """Rewrite a landed CSV without ``dropped_rows`` rows spread evenly over the file (so every day
    keeps flights and the completeness rule has nothing to hold), atomically through a ``.part``
    file beside it; returns the data rows left."""
    with open(path, newline="") as handle:
        header, *data = list(csv.reader(handle))
    step = len(data) / dropped_rows
    dropped = {int(index * step) for index in range(dropped_rows)}
    kept = [row for index, row in enumerate(data) if index not in dropped]
    partial = path.with_name(path.name + ".part")
    with open(partial, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *kept])
    partial.replace(path)
    return len(kept)
