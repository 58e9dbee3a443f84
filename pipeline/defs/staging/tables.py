"""The staging tables: typed, cleaned and deduplicated; every instant a TIMESTAMPTZ.

Their rules are the staging contract: DuckDB checks them on the written slice before it commits.
"""

from pipeline.constants import STAGING_SCHEMA
from pipeline.defs.rules import CARRIER_CODE, DELAY_MINUTES, FAA_CODE, NYC_AIRPORT, TAIL_NUMBER
from pipeline.warehouse.tables import Table, at_least, at_most, column, greater_than, in_range, matches, one_of

UTC = "TIMESTAMP WITH TIME ZONE"


def lineage(table: str):
    return (
        column("_source_file", "VARCHAR", "Landed file the row came from.", matches(rf"^{table}_\d{{4}}-\d{{2}}\.csv$")),
        column("_loaded_at", UTC, "When the raw load of that file ran (UTC)."),
    )


FLIGHTS = Table(
    STAGING_SCHEMA,
    "flights",
    "One row per scheduled flight departing NYC.",
    (
        column("flight_date", "DATE", "Local date of the scheduled departure at the origin."),
        column("year", "SMALLINT", "Year of flight_date.", in_range(1900, 2100)),
        column("month", "TINYINT", "Month of flight_date, 1–12.", in_range(1, 12)),
        column("day", "TINYINT", "Day of month of flight_date.", in_range(1, 31)),
        column("carrier", "VARCHAR", "Two-character carrier code, upper case (see staging/airlines).", CARRIER_CODE),
        column("flight_number", "INTEGER", "Flight number.", in_range(1, 9999)),
        column("tailnum", "VARCHAR", "Plane tail number, upper case; null when unknown.", TAIL_NUMBER, nullable=True),
        column("origin", "VARCHAR", "FAA code of the NYC departure airport.", NYC_AIRPORT),
        column("dest", "VARCHAR", "FAA code of the destination (see staging/airports).", FAA_CODE),
        column("sched_dep_at", UTC, "Scheduled departure instant (origin's local clock through its IANA time zone)."),
        column("dep_at", UTC, "Actual departure instant: scheduled plus the delay; null when cancelled.", nullable=True),
        column("sched_arr_at", UTC, "Scheduled arrival instant (destination's time zone; next day if before departure)."),
        column("arr_at", UTC, "Actual arrival instant: scheduled plus the delay; null when cancelled or diverted.", nullable=True),
        column("dep_delay_minutes", "INTEGER", "Departure delay in minutes (negative: early); null when cancelled.", DELAY_MINUTES, nullable=True),
        column("arr_delay_minutes", "INTEGER", "Arrival delay in minutes (negative: early); null when cancelled or diverted.", DELAY_MINUTES, nullable=True),
        column("air_time_minutes", "INTEGER", "Minutes in the air; null when cancelled or diverted.", in_range(1, 1440), nullable=True),
        column("distance_miles", "INTEGER", "Great-circle distance between the airports in miles.", greater_than(0), at_most(12500)),
        column("is_cancelled", "BOOLEAN", "True when the flight never departed (no departure time reported)."),
        column("is_diverted", "BOOLEAN", "True when it departed but reported no arrival delay (landed elsewhere)."),
        column("sched_dep_hour", UTC, "Scheduled departure hour in UTC, the key to join the origin's weather."),
        *lineage("flights"),
    ),
)

WEATHER = Table(
    STAGING_SCHEMA,
    "weather",
    "One row per NYC airport and hour of weather observation.",
    (
        column("origin", "VARCHAR", "FAA code of the observing NYC airport.", NYC_AIRPORT),
        column("observation_date", "DATE", "Local (New York) date of the observation."),
        column("local_hour", "TINYINT", "Local (New York) hour of the observation, 0–23.", in_range(0, 23)),
        column("observed_at", UTC, "The observed hour as an instant (UTC)."),
        column("temperature_f", "DOUBLE", "Temperature in °F; null when not reported.", in_range(-60, 130), nullable=True),
        column("dew_point_f", "DOUBLE", "Dew point in °F; null when not reported.", in_range(-80, 100), nullable=True),
        column("relative_humidity", "DOUBLE", "Relative humidity in percent, 0–100.", in_range(0, 100), nullable=True),
        column("wind_direction_deg", "SMALLINT", "Wind direction in degrees, 0–360.", in_range(0, 360), nullable=True),
        # Only the sign: the source has a 1,048 mph reading that readings_plausible reports (WARN).
        column("wind_speed_mph", "DOUBLE", "Sustained wind speed in mph.", at_least(0), nullable=True),
        column("wind_gust_mph", "DOUBLE", "Wind gust speed in mph.", at_least(0), nullable=True),
        column("precipitation_in", "DOUBLE", "Precipitation during the hour in inches.", in_range(0, 20), nullable=True),
        column("pressure_mbar", "DOUBLE", "Sea-level pressure in millibars.", in_range(850, 1100), nullable=True),
        column("visibility_miles", "DOUBLE", "Visibility in miles (10 is the reporting maximum).", at_least(0), nullable=True),
        *lineage("weather"),
    ),
    unique=("origin", "observed_at"),
)

AIRPORTS = Table(
    STAGING_SCHEMA,
    "airports",
    "One row per airport FAA code, with its IANA time zone.",
    (
        column("faa", "VARCHAR", "FAA airport code.", FAA_CODE, unique=True),
        column("airport_name", "VARCHAR", "Airport name, trimmed."),
        column("latitude", "DOUBLE", "Latitude in degrees; null for reference-only airports.", in_range(-90, 90), nullable=True),
        column("longitude", "DOUBLE", "Longitude in degrees; null for reference-only airports.", in_range(-180, 180), nullable=True),
        column("altitude_ft", "INTEGER", "Altitude in feet; null for reference-only airports.", in_range(-1500, 30000), nullable=True),
        column("utc_offset_hours", "SMALLINT", "Standard-time offset from UTC in hours.", in_range(-12, 14), nullable=True),
        column("dst_rule", "VARCHAR", "Daylight saving rule: A (US), U (unknown), N (none).", one_of(["A", "U", "N"]), nullable=True),
        column("time_zone", "VARCHAR", "IANA time zone used to place local clock times; null when unknown.", nullable=True),
        column("from_reference_supplement", "BOOLEAN", "True when the row comes from the reference file shipped with the code, not the source."),
    ),
)

AIRLINES = Table(
    STAGING_SCHEMA,
    "airlines",
    "One row per carrier code.",
    (
        column("carrier", "VARCHAR", "Two-character carrier code, upper case.", CARRIER_CODE, unique=True),
        column("carrier_name", "VARCHAR", "Full airline name."),
    ),
)

PLANES = Table(
    STAGING_SCHEMA,
    "planes",
    "One row per tail number.",
    (
        column("tailnum", "VARCHAR", "Plane tail number, upper case.", TAIL_NUMBER, unique=True),
        column("build_year", "SMALLINT", "Year the plane was built; null when unknown.", in_range(1903, 2100), nullable=True),
        column("aircraft_type", "VARCHAR", "Type of aircraft, e.g. Fixed wing multi engine."),
        column("manufacturer", "VARCHAR", "Manufacturer with one spelling per company (AIRBUS, BOMBARDIER, ...)."),
        column("model", "VARCHAR", "Model designation."),
        column("engines", "TINYINT", "Number of engines.", in_range(1, 8)),
        column("seats", "SMALLINT", "Number of seats.", in_range(1, 1000)),
        column("cruise_speed_mph", "SMALLINT", "Average cruising speed in mph; null for most planes.", in_range(1, 800), nullable=True),
        column("engine_type", "VARCHAR", "Type of engine, e.g. Turbo-fan."),
    ),
)
