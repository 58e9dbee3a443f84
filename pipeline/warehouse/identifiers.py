"""SQL identifiers that must be interpolated (schema, table and column names) are validated first.

DuckDB cannot bind an identifier as a parameter, so a name that reaches SQL text from
configuration, asset metadata or a file name is checked here: plain ASCII letters, digits and
underscores, not starting with a digit, at most 63 characters, and not a reserved word. Anything
else — quotes, semicolons, spaces, dots, comments — is refused before any SQL runs.
"""

from __future__ import annotations

import re
from functools import cache

import duckdb

IDENTIFIER_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class InvalidIdentifierError(ValueError):
    """A name meant for SQL text is not a plain identifier."""


@cache
def reserved_keywords() -> frozenset[str]:
    """DuckDB's reserved words (``select``, ``from``, ...), which cannot name a table or column."""
    with duckdb.connect() as conn:
        rows = conn.execute(
            "select keyword_name from duckdb_keywords() where keyword_category = 'reserved'"
        ).fetchall()
    return frozenset(name for (name,) in rows)


def validate_identifier(name: object, *, role: str = "identifier") -> str:
    """``name`` unchanged if it is safe to interpolate into SQL; else InvalidIdentifierError.

    ``role`` says what the name is for ("schema", "table", "column") in the error message.
    """
    if not isinstance(name, str) or not IDENTIFIER_PATTERN.fullmatch(name):
        raise InvalidIdentifierError(
            f"{role} name {name!r} is not a valid SQL identifier: use 1-63 ASCII letters, digits "
            "and underscores, not starting with a digit."
        )
    if name.lower() in reserved_keywords():
        raise InvalidIdentifierError(
            f"{role} name {name!r} is a reserved SQL word and cannot be used as a {role} name."
        )
    return name


def qualified_table_name(schema: str, table: str) -> str:
    """``schema.table`` after validating both parts."""
    return f"{validate_identifier(schema, role='schema')}.{validate_identifier(table, role='table')}"
