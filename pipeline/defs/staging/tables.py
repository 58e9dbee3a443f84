"""The staging tables: typed, cleaned and deduplicated; every instant a TIMESTAMPTZ.

Their rules are the staging contract: DuckDB checks them on the written slice before it commits.
A column that holds the same values as a raw column takes that column's rules (``same_as``), so
the domain is stated once, in ``pipeline/defs/raw/tables.py``, and checked at ingest and again here.
"""

from pipeline.constants import STAGING_SCHEMA
from pipeline.defs.raw import tables as raw
from pipeline.warehouse.tables import Rule, Table, column, matches


def same_as(raw_table: Table, raw_column: str) -> tuple[Rule, ...]:
    """The rules of a raw column, for a staging column holding the same values."""
    return raw_table.column(raw_column).rules


UTC = "TIMESTAMP WITH TIME ZONE"


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
        column("year", "SMALLINT", "Year of flight_date.", *same_as(raw.FLIGHTS, "year")),
        column("month", "TINYINT", "Month of flight_date, 1–12.", *same_as(raw.FLIGHTS, "month")),
        column("day", "TINYINT", "Day of month of flight_date.", *same_as(raw.FLIGHTS, "day")),
        column(
            "carrier",
            "VARCHAR",
            "Two-character carrier code, upper case (see staging/airlines).",
            *same_as(raw.FLIGHTS, "carrier"),
        ),
        column("flight_number", "INTEGER", "Flight number.", *same_as(raw.FLIGHTS, "flight")),
        column(
            "tailnum",
            "VARCHAR",
            "Plane tail number, upper case; null when unknown.",
            *same_as(raw.FLIGHTS, "tailnum"),
            nullable=True,
        ),
        column(
            "origin", "VARCHAR", "FAA code of the NYC departure airport.", *same_as(raw.FLIGHTS, "origin")
        ),
        column(
            "dest",
            "VARCHAR",
            "FAA code of the destination (see staging/airports).",
            *same_as(raw.FLIGHTS, "dest"),
        ),
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
        column(
            "dep_delay_minutes",
            "INTEGER",
            "Departure delay in minutes (negative: early); null when cancelled.",
            *same_as(raw.FLIGHTS, "dep_delay"),
            nullable=True,
        ),
        column(
            "arr_delay_minutes",
            "INTEGER",
            "Arrival delay in minutes (negative: early); null when cancelled or diverted.",
            *same_as(raw.FLIGHTS, "arr_delay"),
            nullable=True,
        ),
        column(
            "air_time_minutes",
            "INTEGER",
            "Minutes in the air; null when cancelled or diverted.",
            *same_as(raw.FLIGHTS, "air_time"),
            nullable=True,
        ),
        column(
            "distance_miles",
            "INTEGER",
            "Great-circle distance between the airports in miles.",
            *same_as(raw.FLIGHTS, "distance"),
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
        column(
            "origin", "VARCHAR", "FAA code of the observing NYC airport.", *same_as(raw.WEATHER, "origin")
        ),
        column("observation_date", "DATE", "Local (New York) date of the observation."),
        column(
            "local_hour",
            "TINYINT",
            "Local (New York) hour of the observation, 0–23.",
            *same_as(raw.WEATHER, "hour"),
        ),
        column("observed_at", UTC, "The observed hour as an instant (UTC)."),
        column(
            "temperature_f",
            "DOUBLE",
            "Temperature in °F; null when not reported.",
            *same_as(raw.WEATHER, "temp"),
            nullable=True,
        ),
        column(
            "dew_point_f",
            "DOUBLE",
            "Dew point in °F; null when not reported.",
            *same_as(raw.WEATHER, "dewp"),
            nullable=True,
        ),
        column(
            "relative_humidity",
            "DOUBLE",
            "Relative humidity in percent, 0–100.",
            *same_as(raw.WEATHER, "humid"),
            nullable=True,
        ),
        column(
            "wind_direction_deg",
            "SMALLINT",
            "Wind direction in degrees, 0–360.",
            *same_as(raw.WEATHER, "wind_dir"),
            nullable=True,
        ),
        # Only the sign: the source has a 1,048 mph reading that readings_plausible reports (WARN).
        column(
            "wind_speed_mph",
            "DOUBLE",
            "Sustained wind speed in mph.",
            *same_as(raw.WEATHER, "wind_speed"),
            nullable=True,
        ),
        column(
            "wind_gust_mph",
            "DOUBLE",
            "Wind gust speed in mph.",
            *same_as(raw.WEATHER, "wind_gust"),
            nullable=True,
        ),
        column(
            "precipitation_in",
            "DOUBLE",
            "Precipitation during the hour in inches.",
            *same_as(raw.WEATHER, "precip"),
            nullable=True,
        ),
        column(
            "pressure_mbar",
            "DOUBLE",
            "Sea-level pressure in millibars.",
            *same_as(raw.WEATHER, "pressure"),
            nullable=True,
        ),
        column(
            "visibility_miles",
            "DOUBLE",
            "Visibility in miles (10 is the reporting maximum).",
            *same_as(raw.WEATHER, "visib"),
            nullable=True,
        ),
        *lineage("weather"),
    ),
    unique=("origin", "observed_at"),
)

AIRPORTS = Table(
    STAGING_SCHEMA,
    "airports",
    "One row per airport FAA code, with its IANA time zone.",
    (
        column("faa", "VARCHAR", "FAA airport code.", *same_as(raw.AIRPORTS, "faa"), unique=True),
        column("airport_name", "VARCHAR", "Airport name, trimmed."),
        column(
            "latitude",
            "DOUBLE",
            "Latitude in degrees; null for reference-only airports.",
            *same_as(raw.AIRPORTS, "lat"),
            nullable=True,
        ),
        column(
            "longitude",
            "DOUBLE",
            "Longitude in degrees; null for reference-only airports.",
            *same_as(raw.AIRPORTS, "lon"),
            nullable=True,
        ),
        column(
            "altitude_ft",
            "INTEGER",
            "Altitude in feet; null for reference-only airports.",
            *same_as(raw.AIRPORTS, "alt"),
            nullable=True,
        ),
        column(
            "utc_offset_hours",
            "SMALLINT",
            "Standard-time offset from UTC in hours.",
            *same_as(raw.AIRPORTS, "tz"),
            nullable=True,
        ),
        column(
            "dst_rule",
            "VARCHAR",
            "Daylight saving rule: A (US), U (unknown), N (none).",
            *same_as(raw.AIRPORTS, "dst"),
            nullable=True,
        ),
        column(
            "time_zone",
            "VARCHAR",
            "IANA time zone used to place local clock times; null when unknown.",
            *same_as(raw.AIRPORTS, "tzone"),
            nullable=True,
        ),
        column(
            "from_reference_supplement",
            "BOOLEAN",
            "True when the row comes from the reference file shipped with the code, not the source.",
        ),
    ),
)

AIRLINES = Table(
    STAGING_SCHEMA,
    "airlines",
    "One row per carrier code.",
    (
        column(
            "carrier",
            "VARCHAR",
            "Two-character carrier code, upper case.",
            *same_as(raw.AIRLINES, "carrier"),
            unique=True,
        ),
        column("carrier_name", "VARCHAR", "Full airline name."),
    ),
)

PLANES = Table(
    STAGING_SCHEMA,
    "planes",
    "One row per tail number.",
    (
        column(
            "tailnum",
            "VARCHAR",
            "Plane tail number, upper case.",
            *same_as(raw.PLANES, "tailnum"),
            unique=True,
        ),
        column(
            "build_year",
            "SMALLINT",
            "Year the plane was built; null when unknown.",
            *same_as(raw.PLANES, "year"),
            nullable=True,
        ),
        column(
            "aircraft_type",
            "VARCHAR",
            "Type of aircraft, e.g. Fixed wing multi engine.",
            *same_as(raw.PLANES, "type"),
        ),
        column(
            "manufacturer", "VARCHAR", "Manufacturer with one spelling per company (AIRBUS, BOMBARDIER, ...)."
        ),
        column("model", "VARCHAR", "Model designation."),
        column("engines", "TINYINT", "Number of engines.", *same_as(raw.PLANES, "engines")),
        column("seats", "SMALLINT", "Number of seats.", *same_as(raw.PLANES, "seats")),
        column(
            "cruise_speed_mph",
            "SMALLINT",
            "Average cruising speed in mph; null for most planes.",
            *same_as(raw.PLANES, "speed"),
            nullable=True,
        ),
        column("engine_type", "VARCHAR", "Type of engine, e.g. Turbo-fan.", *same_as(raw.PLANES, "engine")),
    ),
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
