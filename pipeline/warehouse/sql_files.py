"""Every SQL file of the project is read by ``load_sql``, with one kind of placeholder.

Values are always DuckDB parameters (``$name``, bound at execution). What varies in a query's text
(a table, its columns, an expression generated from a declaration) goes in a ``${slot}``, filled
here with identifiers that pass ``validate_identifier`` or with a ``Fixed`` piece of SQL this code
base writes — never with a value. sqlfluff lints a slot as a bare name.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.warehouse.identifiers import validate_identifier

_SLOT = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Fixed:
    """SQL for a ``${slot}`` that this code base writes (a fixed expression, or one generated from a
    declaration's validated names), never input."""

    sql: str


Slot = str | Sequence[str] | Fixed


def slot_sql(value: Slot) -> str:
    """A slot's SQL: a (schema-qualified) identifier, a list of column names, or Fixed SQL."""
    if isinstance(value, Fixed):
        return value.sql
    if isinstance(value, str):
        return ".".join(validate_identifier(part) for part in value.split("."))
    return ", ".join(validate_identifier(name, role="column") for name in value)


def fill_slots(sql: str, slots: dict[str, Slot]) -> str:
    """``sql`` with each ``${slot}`` filled; a slot the query has and ``slots`` lacks is an error."""
    filled = {slot: slot_sql(value) for slot, value in slots.items()}

    def fill(match: re.Match[str]) -> str:
        if match[1] not in filled:
            raise KeyError(f"SQL slot ${{{match[1]}}} has no value (given: {', '.join(sorted(filled))})")
        return filled[match[1]]

    return _SLOT.sub(fill, sql)


def load_sql(folder: Path, name: str, **slots: Slot) -> str:
    """``<folder>/<name>.sql`` with its ``${slot}``s filled from ``slots``."""
    return fill_slots((folder / f"{name}.sql").read_text(), slots)
