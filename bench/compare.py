"""What a variant built, compared with what the floor built: the benchmark's "same tables" column.

A fingerprint holds the row count of every table the floor builds (and that the variant's
warehouse holds), staging flights per month, and the full contents of the marts. A variant that
builds only some layers (the read limit builds the raw tables) is compared on those layers only.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from bench.floor import STEPS

# The layers each variant builds, when not all of them.
PARTIAL_LAYERS = {"read_limit": ("raw",)}


def _normalized(value):
    if isinstance(value, datetime) and (value.hour, value.minute, value.second, value.microsecond) == (
        0,
        0,
        0,
        0,
    ):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return float(f"{value:.9g}")
    return value


def warehouse_fingerprint(database: Path) -> dict[str, object]:
    """Row counts of the floor's tables that ``database`` holds, staging flights by month, marts' rows."""
    fingerprint: dict[str, object] = {}
    with duckdb.connect(str(database), read_only=True) as conn:
        stored = {
            f"{schema}.{table}"
            for schema, table in conn.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        for step in STEPS:
            if not step.stored_by_pipeline or step.table not in stored:
                continue
            fingerprint[f"{step.table} rows"] = conn.execute(f"select count(*) from {step.table}").fetchall()[
                0
            ][0]
            if step.layer == "marts":
                columns = [row[0] for row in conn.execute(f"describe {step.table}").fetchall()]
                rows = conn.execute(f"select {', '.join(columns)} from {step.table}").fetchall()
                fingerprint[f"{step.table} content"] = sorted(
                    (tuple(_normalized(value) for value in row) for row in rows), key=repr
                )
        if "staging.flights" in stored:
            fingerprint["staging.flights rows by month"] = dict(
                conn.execute(
                    "select strftime(flight_date, '%Y-%m'), count(*) from staging.flights group by 1 order by 1"
                ).fetchall()
            )
    return fingerprint


def differences(expected: dict[str, object], actual: dict[str, object], variant: str = "") -> list[str]:
    """What ``actual`` (the variant's fingerprint) lacks or holds differently from the floor's."""
    layers = PARTIAL_LAYERS.get(variant)
    keys = [key for key in expected if layers is None or key.split(".", 1)[0] in layers]
    return [
        f"{key}: floor {str(expected[key])[:120]} ≠ {str(actual.get(key))[:120]}"
        for key in keys
        if expected[key] != actual.get(key)
    ]
