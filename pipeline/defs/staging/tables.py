"""The staging tables: typed, cleaned and deduplicated; every instant a TIMESTAMPTZ.

Their rules are the staging contract: DuckDB checks them on the written slice before it commits.
A column that holds the same values as a raw column takes that column's rules (``carried``), so
the domain is stated once, in ``pipeline/defs/raw/tables.py``, and checked at ingest and again here.
The dimensions (airlines, airports, planes) are declared in their folders, ``staging/<table>/``.
"""

from pipeline.constants import STAGING_SCHEMA
from pipeline.defs.raw import tables as raw
from pipeline.warehouse.tables import Column, Rule, Table, carried, column, matches

UTC = "TIMESTAMP WITH TIME ZONE"


def nullable_renamed(source: Table, *renamed: tuple[str, str, str]) -> tuple[Column, ...]:
    """Nullable columns carried from ``source``, each given as (source column, name here, description)."""
    return tuple(
        carried(source, source_column, description, name=name, nullable=True)
        for source_column, name, description in renamed
    )


def lineage(table: str):
    return (
        column(
            "_source_file",
            "VARCHAR",
            "Landed file the row came from.",
            matches(rf"^{table}_\d{{4}}-\d{{2}}\.csv(\.gz)?$"),
        ),
        column("_loaded_at", UTC, "When the raw load of that file ran (UTC)."),
    )


FLIGHTS = Table(
    STAGING_SCHEMA,
    "flights",
    "One row per scheduled flight departing NYC.",
    (
        column("flight_date", "DATE", "Local date of the scheduled departure at the origin."),
        carried(raw.FLIGHTS, "year", "Year of flight_date."),
        carried(raw.FLIGHTS, "month", "Month of flight_date, 1–12."),
        carried(raw.FLIGHTS, "day", "Day of month of flight_date."),
        carried(raw.FLIGHTS, "carrier", "Two-character carrier code, upper case (see staging/airlines)."),
        carried(raw.FLIGHTS, "flight", "Flight number.", name="flight_number"),
        carried(raw.FLIGHTS, "tailnum", "Plane tail number, upper case; null when unknown.", nullable=True),
        carried(raw.FLIGHTS, "origin", "FAA code of the NYC departure airport."),
        carried(raw.FLIGHTS, "dest", "FAA code of the destination (see staging/airports)."),
        column(
            "sched_dep_at",
            UTC,
            "Scheduled departure instant (origin's local clock through its IANA time zone).",
        ),
        column(
            "dep_at",
            UTC,
            "Actual departure instant: scheduled plus the delay; null when cancelled.",
            nullable=True,
        ),
        column(
            "sched_arr_at",
            UTC,
            "Scheduled arrival instant (destination's time zone; next day if before departure).",
        ),
        column(
            "arr_at",
            UTC,
            "Actual arrival instant: scheduled plus the delay; null when cancelled or diverted.",
            nullable=True,
        ),
        carried(
            raw.FLIGHTS,
            "dep_delay",
            "Departure delay in minutes (negative: early); null when cancelled.",
            name="dep_delay_minutes",
            type="INTEGER",
            nullable=True,
        ),
        carried(
            raw.FLIGHTS,
            "arr_delay",
            "Arrival delay in minutes (negative: early); null when cancelled or diverted.",
            name="arr_delay_minutes",
            type="INTEGER",
            nullable=True,
        ),
        carried(
            raw.FLIGHTS,
            "air_time",
            "Minutes in the air; null when cancelled or diverted.",
            name="air_time_minutes",
            type="INTEGER",
            nullable=True,
        ),
        carried(
            raw.FLIGHTS,
            "distance",
            "Great-circle distance between the airports in miles.",
            name="distance_miles",
            type="INTEGER",
        ),
        column(
            "is_cancelled", "BOOLEAN", "True when the flight never departed (no departure time reported)."
        ),
        column(
            "is_diverted",
            "BOOLEAN",
            "True when it departed but reported no arrival delay (landed elsewhere).",
        ),
        column(
            "sched_dep_hour", UTC, "Scheduled departure hour in UTC, the key to join the origin's weather."
        ),
        *lineage("flights"),
    ),
)

WEATHER = Table(
    STAGING_SCHEMA,
    "weather",
    "One row per NYC airport and hour of weather observation.",
    (
        carried(raw.WEATHER, "origin", "FAA code of the observing NYC airport."),
        column("observation_date", "DATE", "Local (New York) date of the observation."),
        carried(raw.WEATHER, "hour", "Local (New York) hour of the observation, 0–23.", name="local_hour"),
        column("observed_at", UTC, "The observed hour as an instant (UTC)."),
        *nullable_renamed(
            raw.WEATHER,
            ("temp", "temperature_f", "Temperature in °F; null when not reported."),
            ("dewp", "dew_point_f", "Dew point in °F; null when not reported."),
            ("humid", "relative_humidity", "Relative humidity in percent, 0–100."),
            ("wind_dir", "wind_direction_deg", "Wind direction in degrees, 0–360."),
            # Only the sign: the source has a 1,048 mph reading that readings_plausible reports (WARN).
            ("wind_speed", "wind_speed_mph", "Sustained wind speed in mph."),
            ("wind_gust", "wind_gust_mph", "Wind gust speed in mph."),
            ("precip", "precipitation_in", "Precipitation during the hour in inches."),
            ("pressure", "pressure_mbar", "Sea-level pressure in millibars."),
            ("visib", "visibility_miles", "Visibility in miles (10 is the reporting maximum)."),
        ),
        *lineage("weather"),
    ),
    unique=("origin", "observed_at"),
)

# What identifies a flight; staging's flight_identity_unique check holds the whole table to it,
# across months. (The other tables' keys are their declared unique columns above.)
FLIGHT_IDENTITY = ("carrier", "flight_number", "origin", "sched_dep_at")

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
