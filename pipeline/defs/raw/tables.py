"""The raw tables: each landed file's columns as upstream declares them, plus where each row came from.

``csv_columns`` of these tables is what a landed file must hold, in order, and the types DuckDB
parses it with; the ingest check and the raw load both read it from here.
"""

from pipeline.constants import RAW_SCHEMA
from pipeline.warehouse.tables import Table, column

LINEAGE = (
    column("_source_file", "VARCHAR", "Name of the landed file the row was read from."),
    column("_source_version", "VARCHAR", "Archive version (first 16 hex digits of the file's SHA-256) read."),
    column("_loaded_at", "TIMESTAMP WITH TIME ZONE", "When the raw load ran (UTC)."),
)
CLOCK = "local clock time as hhmm (830 is 08:30)"

FLIGHTS = Table(
    RAW_SCHEMA,
    "flights",
    "Landed flights departing NYC, one partition per month as upstream delivered them.",
    (
        column("year", "SMALLINT", "Year of the scheduled departure (local date)."),
        column("month", "TINYINT", "Month of the scheduled departure, 1–12."),
        column("day", "TINYINT", "Day of month of the scheduled departure."),
        column("dep_time", "SMALLINT", f"Actual departure, {CLOCK} at the origin; NA when cancelled.", nullable=True),
        column("sched_dep_time", "SMALLINT", f"Scheduled departure, {CLOCK} at the origin."),
        column("dep_delay", "SMALLINT", "Departure delay in minutes (negative: early); NA when cancelled.", nullable=True),
        column("arr_time", "SMALLINT", f"Actual arrival, {CLOCK} at the destination.", nullable=True),
        column("sched_arr_time", "SMALLINT", f"Scheduled arrival, {CLOCK} at the destination."),
        column("arr_delay", "SMALLINT", "Arrival delay in minutes (negative: early); NA when cancelled or diverted.", nullable=True),
        column("carrier", "VARCHAR", "Two-character carrier code (see airlines)."),
        column("flight", "INTEGER", "Flight number."),
        column("tailnum", "VARCHAR", "Plane tail number (see planes); NA when unknown.", nullable=True),
        column("origin", "VARCHAR", "FAA code of the NYC departure airport: EWR, JFK or LGA."),
        column("dest", "VARCHAR", "FAA code of the destination airport."),
        column("air_time", "SMALLINT", "Minutes in the air; NA when cancelled or diverted.", nullable=True),
        column("distance", "SMALLINT", "Distance between the airports in miles."),
        column("hour", "TINYINT", "Hour of the scheduled departure (0–23)."),
        column("minute", "TINYINT", "Minute of the scheduled departure (0–59)."),
        column("time_hour", "VARCHAR", "Scheduled departure hour in UTC, ISO 8601 text ending in Z."),
        *LINEAGE,
    ),
)

WEATHER = Table(
    RAW_SCHEMA,
    "weather",
    "Landed hourly weather at EWR, JFK and LGA, one partition per month.",
    (
        column("origin", "VARCHAR", "FAA code of the observing NYC airport."),
        column("year", "SMALLINT", "Year of the observation (local date)."),
        column("month", "TINYINT", "Month of the observation, 1–12."),
        column("day", "TINYINT", "Day of month of the observation."),
        column("hour", "TINYINT", "Local hour of the observation (0–23)."),
        column("temp", "DOUBLE", "Temperature in °F.", nullable=True),
        column("dewp", "DOUBLE", "Dew point in °F.", nullable=True),
        column("humid", "DOUBLE", "Relative humidity in percent.", nullable=True),
        column("wind_dir", "SMALLINT", "Wind direction in degrees.", nullable=True),
        column("wind_speed", "DOUBLE", "Wind speed in mph.", nullable=True),
        column("wind_gust", "DOUBLE", "Wind gust speed in mph.", nullable=True),
        column("precip", "DOUBLE", "Precipitation in inches during the hour.", nullable=True),
        column("pressure", "DOUBLE", "Sea-level pressure in millibars.", nullable=True),
        column("visib", "DOUBLE", "Visibility in miles.", nullable=True),
        column("time_hour", "VARCHAR", "Observed hour in UTC, ISO 8601 text ending in Z."),
        *LINEAGE,
    ),
)

AIRLINES = Table(
    RAW_SCHEMA,
    "airlines",
    "Landed airlines file: carrier code and name.",
    (
        column("carrier", "VARCHAR", "Two-character carrier code."),
        column("name", "VARCHAR", "Full airline name."),
        *LINEAGE,
    ),
)

AIRPORTS = Table(
    RAW_SCHEMA,
    "airports",
    "Landed airports file: FAA code, position and time zone.",
    (
        column("faa", "VARCHAR", "FAA airport code."),
        column("name", "VARCHAR", "Airport name."),
        column("lat", "DOUBLE", "Latitude in degrees.", nullable=True),
        column("lon", "DOUBLE", "Longitude in degrees.", nullable=True),
        column("alt", "INTEGER", "Altitude in feet.", nullable=True),
        column("tz", "SMALLINT", "Standard-time offset from UTC in hours.", nullable=True),
        column("dst", "VARCHAR", "Daylight saving rule: A (US), U (unknown), N (none).", nullable=True),
        column("tzone", "VARCHAR", "IANA time zone name, e.g. America/New_York.", nullable=True),
        *LINEAGE,
    ),
)

PLANES = Table(
    RAW_SCHEMA,
    "planes",
    "Landed planes file: tail number, build year, manufacturer and model.",
    (
        column("tailnum", "VARCHAR", "Plane tail number."),
        column("year", "SMALLINT", "Year the plane was built.", nullable=True),
        column("type", "VARCHAR", "Type of aircraft.", nullable=True),
        column("manufacturer", "VARCHAR", "Manufacturer as registered (spellings vary).", nullable=True),
        column("model", "VARCHAR", "Model designation.", nullable=True),
        column("engines", "TINYINT", "Number of engines.", nullable=True),
        column("seats", "SMALLINT", "Number of seats.", nullable=True),
        column("speed", "SMALLINT", "Average cruising speed in mph; NA for most planes.", nullable=True),
        column("engine", "VARCHAR", "Type of engine.", nullable=True),
        *LINEAGE,
    ),
)

RAW_TABLES = {table.name: table for table in (FLIGHTS, WEATHER, AIRLINES, AIRPORTS, PLANES)}
