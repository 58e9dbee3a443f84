"""The staging tables: typed, cleaned and deduplicated; every instant a TIMESTAMPTZ.

Their rules are the staging contract: DuckDB checks them on the written slice before it commits.
A column that holds the same values as a raw column takes that column's rules (``same_as`` in the
folder's ``defs.yaml``), so the domain is stated once, in the raw table's folder, and checked at
ingest and again here. The tables built by SQL are declared in their folders,
``staging/<table>/``; time_zone_offsets, built by SQL calling Python (``time_zones.py``), here.
"""

from pipeline.constants import STAGING_SCHEMA
from pipeline.defs.declarations import declared_table
from pipeline.warehouse.tables import Rule, Table, column

FLIGHTS = declared_table(STAGING_SCHEMA, "flights")
WEATHER = declared_table(STAGING_SCHEMA, "weather")


TIME_ZONE_OFFSETS = Table(
    STAGING_SCHEMA,
    "time_zone_offsets",
    "One row per airport time zone and local clock hour of the partitions: its UTC offset (zoneinfo).",
    (
        column("time_zone", "VARCHAR", "IANA time zone of one or more airports (see staging/airports)."),
        column(
            "local_hour", "TIMESTAMP", "Start of a local clock hour in that zone, as the wall clock shows it."
        ),
        column(
            "utc_offset_minutes",
            "INTEGER",
            "Minutes to subtract from a clock time in that hour to get UTC; in a skipped or repeated "
            "DST hour the offset DuckDB's timezone() applies (before the change; the later one).",
            # Real offsets run from UTC−12 to UTC+14.
            Rule("in_range", (-720, 840)),
        ),
    ),
    unique=("time_zone", "local_hour"),
)
