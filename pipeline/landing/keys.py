"""A landed file's key, on the text as delivered: no two lines hold the same key, and a
dimension's key values for the volume guard (pipeline/landing/guard.py)."""

from __future__ import annotations

import duckdb

from pipeline.landing.domain import SAMPLE_LINES, SQL_DIR, quote
from pipeline.landing.quarantine import Problem
from pipeline.warehouse.sql_files import Fixed, load_sql
from pipeline.warehouse.tables import Table


def duplicate_keys(conn: duckdb.DuckDBPyConnection, table: Table) -> list[Problem]:
    """Lines whose key another line already holds, naming both lines and what differs."""
    key = table.key
    if not key:
        return []
    sql = load_sql(
        SQL_DIR, "duplicate_lines", key_columns=Fixed(", ".join(f"landed.{quote(name)}" for name in key))
    )
    duplicates = conn.execute(sql, {"sample_size": SAMPLE_LINES}).fetchall()
    if not duplicates:
        return []
    records = sorted({record for group, _ in duplicates for record in group})
    rows = {
        row[0]: dict(zip(table.csv_columns(), row[1:], strict=True))
        for row in conn.execute(load_sql(SQL_DIR, "landed_records"), {"records": records}).fetchall()
    }
    problems = []
    for group, _ in duplicates:
        first = rows[group[0] + 2]
        key_text = ", ".join(f"{name}={first[name]!r}" for name in key)
        for record in group[1:]:
            row = rows[record + 2]
            differing = [name for name in row if row[name] != first[name]]
            detail = (
                "conflicting values: "
                + "; ".join(f"{name} {first[name]!r} vs {row[name]!r}" for name in differing)
                if differing
                else "the rows are identical (a duplicated row)"
            )
            problems.append(
                Problem(
                    f"duplicate key ({key_text}): lines {group[0] + 2} and {record + 2}; {detail}",
                    record + 2,
                    ", ".join(key),
                )
            )
    surplus = duplicates[0][1]
    if surplus > len(problems):
        problems.append(
            Problem(
                f"... {surplus:,} surplus rows share a key in all; the first {len(problems)} are listed",
                problems[-1].line,
                ", ".join(key),
            )
        )
    return problems


def key_values(conn: duckdb.DuckDBPyConnection, table: Table) -> frozenset[str] | None:
    """A dimension's key values as delivered (None for a table without a one-column key)."""
    if len(table.key) != 1:
        return None
    sql = load_sql(SQL_DIR, "key_values", key_column=Fixed(f"landed.{quote(table.key[0])}"))
    return frozenset(value for (value,) in conn.execute(sql).fetchall() if value is not None)
