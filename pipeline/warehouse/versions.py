"""What a table holds now, and what changed from the version before: a version's fingerprint and
the difference between two versions by the table's key.

A fingerprint is the row count and an order-independent hash of every row (``bit_xor`` of each
row's hash): two readers that compute the same fingerprint read the same version, so a check that
runs after a table was published can say which version it examined. It reads every row once;
meant for the tables that are published whole (marts), not for fact tables.

The difference joins the old and the new version on the key: rows added, removed and changed, how
many rows changed each column, and a few example keys. DOUBLE values count as changed only beyond
a relative 1e-9 (DuckDB's parallel aggregates may sum in another order and differ in the last bit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipeline.warehouse.identifiers import validate_identifier

EXAMPLES = 5
DOUBLE_TOLERANCE = 1e-9


def fingerprint(connection: duckdb.DuckDBPyConnection, relation: str) -> str:
    """``<rows>:<hash>`` of the relation's rows, independent of their order."""
    rows, digest = connection.execute(
        f"select count(*), coalesce(bit_xor(hash(version_rows)), 0) from {relation} as version_rows"
    ).fetchone()
    return f"{rows}:{digest:016x}"


@dataclass(frozen=True)
class Changes:
    """How a new version of a table differs from the one it replaces."""

    key: tuple[str, ...]
    added: int
    removed: int
    changed: int
    changed_columns: dict[str, int]
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """``2 rows changed (flights, cancelled_flights), 1 added, 0 removed``."""
        if not (self.added or self.removed or self.changed):
            return "no row changed"
        columns = ", ".join(name for name, count in self.changed_columns.items() if count)
        changed = f"{self.changed:,} row(s) changed" + (f" ({columns})" if columns else "")
        return f"{changed}, {self.added:,} added, {self.removed:,} removed"

    def markdown(self) -> str:
        lines = [self.summary + "."]
        if self.examples:
            lines += [
                "",
                "| change | " + " | ".join(self.key) + " | columns |",
                "|---" * (len(self.key) + 2) + "|",
            ]
            for example in self.examples:
                keys = " | ".join(str(example[name]) for name in self.key)
                lines.append(f"| {example['change']} | {keys} | {', '.join(example['columns'])} |")
        return "\n".join(lines)


def _differs(column: str, dtype: str) -> str:
    old, new = f'old_version."{column}"', f'new_version."{column}"'
    if dtype == "DOUBLE":
        close = f"abs({old} - {new}) <= {DOUBLE_TOLERANCE} * greatest(abs({old}), abs({new}), 1)"
        return f"not ({old} is not distinct from {new} or coalesce({close}, false))"
    return f"{old} is distinct from {new}"


def changes(
    connection: duckdb.DuckDBPyConnection, old: str, new: str, key: Sequence[str], columns: dict[str, str]
) -> Changes:
    """The difference from table ``old`` to relation ``new``, joined on ``key``; ``columns`` (name:
    DuckDB type) are the value columns compared."""
    key = tuple(validate_identifier(name, role="column") for name in key)
    values = [validate_identifier(name, role="column") for name in columns if name not in key]
    joined = (
        f"(select *, true as in_old from {old}) as old_version full outer join "
        f"(select *, true as in_new from {new}) as new_version using ({', '.join(key)})"
    )
    flags = ", ".join(f"{_differs(name, columns[name])} as {name}" for name in values) or "false as unchanged"
    compared = f"select {', '.join(key)}, in_old, in_new, {flags} from {joined}"
    counts = ", ".join(f'count(*) filter (where in_old and in_new and "{name}")' for name in values)
    any_changed = " or ".join(f'"{name}"' for name in values) or "false"
    row = connection.execute(
        "select count(*) filter (where in_old is null), count(*) filter (where in_new is null), "
        f"count(*) filter (where in_old and in_new and ({any_changed}))"
        + (f", {counts}" if counts else "")
        + f" from ({compared})"
    ).fetchone()
    added, removed, changed, *per_column = row
    example_rows = connection.execute(
        f"select * from ({compared}) where in_old is null or in_new is null or ({any_changed}) "
        f"order by all limit {EXAMPLES}"
    ).fetchall()
    names = [*key, "in_old", "in_new", *values]
    examples = []
    for example in example_rows:
        record = dict(zip(names, example, strict=True))
        status = "added" if record["in_old"] is None else "removed" if record["in_new"] is None else "changed"
        examples.append(
            {
                "change": status,
                **{name: _plain(record[name]) for name in key},
                "columns": [name for name in values if status == "changed" and record[name]],
            }
        )
    return Changes(key, added, removed, changed, dict(zip(values, per_column, strict=True)), examples)


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
