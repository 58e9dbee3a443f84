"""What a write changed: the rows written against the version they replace, inside the write.

A raw load keeps the stored rows of the slice it replaces before the IO manager deletes them
(``keep_replaced_rows``: ``WarehouseLoad.before_replace``); a published mart compares its candidate
with the stored table (pipeline/warehouse/publish.py). Either way one full outer join on the
table's key (``sql/what_changed.sql``) counts the rows added, removed and changed, how many rows
changed each column, and picks the first few keys of each kind with the old and new values; the
materialization carries them as numbers, JSON and a short markdown summary. The key and the
columns compared come from the table's declaration; lineage columns (``_source_file`` …) are left
out, since every load changes them. A DOUBLE changes only beyond a relative 1e-9: DuckDB's parallel
aggregates may add in another order and differ in the last bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipeline.warehouse.identifiers import validate_identifier
from pipeline.warehouse.sql_files import Fixed, load_sql
from pipeline.warehouse.tables import Table

SAMPLE_KEYS = 5  # example keys per kind of change
DOUBLE_TOLERANCE = 1e-9
SQL_DIR = Path(__file__).parent / "sql"
REPLACED_ROWS = "replaced_rows"


def quote(name: str) -> str:
    return f'"{validate_identifier(name, role="column")}"'


def keep_replaced_rows(conn: duckdb.DuckDBPyConnection, stored_slice: str) -> None:
    """Keep the rows of ``stored_slice`` (the IO manager's SELECT) as ``replaced_rows`` before they go."""
    conn.execute(load_sql(SQL_DIR, "replaced_rows", stored_slice=Fixed(stored_slice))).fetchall()


def drop_replaced_rows(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(f"drop table if exists {REPLACED_ROWS}").fetchall()


@dataclass(frozen=True)
class Changes:
    """What a load changed in a slice: counts, rows changed per column, and example keys."""

    key: tuple[str, ...]
    rows_added: int
    rows_removed: int = 0
    rows_changed: int = 0
    changed_columns: dict[str, int] = field(default_factory=dict)
    added_keys: list[dict[str, Any]] = field(default_factory=list)
    removed_keys: list[dict[str, Any]] = field(default_factory=list)
    # {"key": {...}, "columns": ["arr_time"], "changes": "arr_time: 1014 → 1029"}
    changed_rows: list[dict[str, Any]] = field(default_factory=list)
    first_version: bool = False  # nothing was stored: every row is added

    def summary(self) -> str:
        """``1 row added, 5 removed, 1 changed (arr_time, arr_delay)``."""
        if self.first_version:
            return f"{_rows(self.rows_added)} added (nothing was stored before)"
        changed = f" ({', '.join(self.changed_columns)})" if self.changed_columns else ""
        return (
            f"{_rows(self.rows_added)} added, {self.rows_removed:,} removed, "
            f"{self.rows_changed:,} changed{changed}"
        )

    def markdown(self, title: str) -> str:
        lines = [f"**{title}**: {self.summary()}."]
        if self.first_version or not (self.rows_added or self.rows_removed or self.rows_changed):
            return "\n".join(lines)
        lines += ["", f"| change | rows | first keys ({', '.join(self.key)}) |", "| --- | ---: | --- |"]
        for kind, count, keys in (
            ("added", self.rows_added, [_key_text(key) for key in self.added_keys]),
            ("removed", self.rows_removed, [_key_text(key) for key in self.removed_keys]),
            (
                "changed",
                self.rows_changed,
                [f"{_key_text(row['key'])}: {row['changes']}" for row in self.changed_rows],
            ),
        ):
            if count:
                lines.append(f"| {kind} | {count:,} | {'<br>'.join(keys)} |")
        if self.changed_columns:
            counted = ", ".join(f"{name} ({rows:,})" for name, rows in self.changed_columns.items())
            lines += ["", f"Rows changed per column: {counted}."]
        return "\n".join(lines)

    def examples(self) -> list[dict[str, Any]]:
        """The example keys as the marts' ``changed_examples`` give them (``pipeline/warehouse/versions.py``):
        ``{"change": "changed", <key>..., "columns": [...]}``, with a changed row's old and new values."""
        return [
            *({"change": "added", **_plain(key), "columns": []} for key in self.added_keys),
            *({"change": "removed", **_plain(key), "columns": []} for key in self.removed_keys),
            *(
                {
                    "change": "changed",
                    **_plain(row["key"]),
                    "columns": row["columns"],
                    "values": row["changes"],
                }
                for row in self.changed_rows
            ),
        ]

    def as_metadata(self, title: str) -> dict[str, Any]:
        """The materialization's metadata, named as the marts' (``pipeline/warehouse/publish.py``):
        numbers, JSON and the markdown a reader sees first."""
        import dagster as dg

        return {
            "rows_added": self.rows_added,
            "rows_removed": self.rows_removed,
            "rows_changed": self.rows_changed,
            "changed_columns": dg.MetadataValue.json(self.changed_columns),
            "changed_examples": dg.MetadataValue.json(self.examples()),
            "changes": dg.MetadataValue.md(self.markdown(title)),
        }


def _plain(key: dict[str, Any]) -> dict[str, Any]:
    """A key as JSON metadata holds it: dates and times as their ISO text."""
    return {
        name: value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
        for name, value in key.items()
    }


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


def _key_text(key: dict[str, Any]) -> str:
    return " ".join(str(value) for value in key.values())


def _differs(column: str, dtype: str) -> str:
    old, new = f"replaced.{quote(column)}", f"written.{quote(column)}"
    if dtype == "DOUBLE":
        close = f"abs({old} - {new}) <= {DOUBLE_TOLERANCE} * greatest(abs({old}), abs({new}), 1)"
        return f"(not ({old} is not distinct from {new} or coalesce({close}, false)))"
    return f"({old} is distinct from {new})"


def _generated_sql(table: Table, replaced: str, written: str) -> dict[str, Fixed]:
    key = list(table.key)
    types = table.csv_columns()
    compared = [name for name in types if name not in key]
    flags = [_differs(name, types[name]) for name in compared]
    told = [
        f"case when {flag} then '{name}: ' || coalesce(replaced.{quote(name)}::varchar, 'NA') || ' → ' "
        f"|| coalesce(written.{quote(name)}::varchar, 'NA') end"
        for name, flag in zip(compared, flags, strict=True)
    ]
    generated = {
        "replaced": replaced,
        "written": written,
        "first_key": quote(key[0]),
        "key_struct": "struct_pack("
        + ", ".join(
            f"{quote(name)} := coalesce(written.{quote(name)}, replaced.{quote(name)})" for name in key
        )
        + ")",
        "key_match": " and ".join(f"replaced.{quote(name)} = written.{quote(name)}" for name in key),
        "changed_flags": ", ".join(
            f"{flag} as {quote(name)}" for name, flag in zip(compared, flags, strict=True)
        ),
        "changed_in_both": f"replaced.{quote(key[0])} is not null and written.{quote(key[0])} is not null "
        f"and ({' or '.join(flags)})",
        "changes": ", ".join(told),
        "changed_names": "list_filter(["
        + ", ".join(f"case when {flag} then '{name}' end" for name, flag in zip(compared, flags, strict=True))
        + "], lambda name: name is not null)",
        "column_counts": ", ".join(
            f"count(*) filter (where compared.changes is not null and compared.{quote(name)}) as {quote(name)}"
            for name in compared
        ),
    }
    return {slot: Fixed(sql) for slot, sql in generated.items()}


def what_changed(
    conn: duckdb.DuckDBPyConnection,
    table: Table,
    written: str,
    replaced: str = REPLACED_ROWS,
    sample_size: int = SAMPLE_KEYS,
) -> Changes:
    """Compare the rows of ``replaced`` (kept replaced rows, or the stored table) with those of
    ``written`` (a table or a parenthesized SELECT of the slice written), once, on the key."""
    sql = load_sql(SQL_DIR, "what_changed", **_generated_sql(table, replaced, written))
    cursor = conn.execute(sql, {"sample_size": sample_size})
    names = [column[0] for column in cursor.description]
    row = dict(zip(names, cursor.fetchall()[0], strict=True))
    compared: Sequence[str] = [name for name in table.csv_columns() if name not in table.key]
    return Changes(
        key=tuple(table.key),
        rows_added=row["rows_added"],
        rows_removed=row["rows_removed"],
        rows_changed=row["rows_changed"],
        changed_columns={name: row[name] for name in compared if row[name]},
        added_keys=list(row["added_sample"] or []),
        removed_keys=list(row["removed_sample"] or []),
        changed_rows=[
            {"key": sample["row_key"], "columns": sample["columns"], "changes": sample["changes"]}
            for sample in row["changed_sample"] or []
        ],
    )
