"""A raw table is its landed file's columns, in order, then where each row came from."""

from typing import Any

from pipeline.constants import RAW_SCHEMA
from pipeline.warehouse.tables import WHOLE, Column, Table, column

LINEAGE = (
    column("_source_file", "VARCHAR", "Name of the landed file the row was read from."),
    column("_source_version", "VARCHAR", "Archive version (first 16 hex digits of the file's SHA-256) read."),
    column("_loaded_at", "TIMESTAMP WITH TIME ZONE", "When the raw load ran (UTC)."),
)


def landed_file_table(name: str, description: str, columns: tuple[Column, ...], **options: Any) -> Table:
    """The raw table of a landed file: the file's ``columns`` in order, then the LINEAGE columns."""
    return Table(RAW_SCHEMA, name, description, (*columns, *LINEAGE), **({"lands": WHOLE} | options))
