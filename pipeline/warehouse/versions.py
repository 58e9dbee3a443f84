"""Which version of a table a reader saw: its fingerprint.

A fingerprint is the row count and an order-independent hash of every row (``bit_xor`` of each
row's hash): two readers that compute the same fingerprint read the same version, so a check that
runs after a table was published can say which version it examined. It reads every row once;
meant for the tables that are published whole (marts), not for fact tables.
"""

from __future__ import annotations

import duckdb


def fingerprint(connection: duckdb.DuckDBPyConnection, relation: str) -> str:
    """``<rows>:<hash>`` of the relation's rows, independent of their order."""
    rows, digest = connection.execute(
        f"select count(*), coalesce(bit_xor(hash(version_rows)), 0) from {relation} as version_rows"
    ).fetchone()
    return f"{rows}:{digest:016x}"
