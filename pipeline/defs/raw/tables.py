"""The raw tables: each landed file's columns as upstream declares them, plus where each row came from.

This is the contract of every landed file (the ingest check, ``pipeline/landing/domain.py``, reads it
on the text as delivered before anything is cast): each column's type says what its text may look
like, ``nullable`` whether ``NA`` is allowed, its rules the values' domain (ranges, clock times,
closed code sets, patterns); ``row_rules`` what the values of one row mean together, the key
(``unique``) what no two rows share; ``lands`` whether a file holds one month or the whole table.
``csv_columns`` is what a landed file must hold, in order, and the types the raw load casts the
checked text to. Staging reuses these rules where its columns mean the same (staging/tables.py).
The dimensions (airlines, airports, planes) are declared in their folders, ``raw/<table>/defs.yaml``
(``pipeline/defs/declarations.py``), and joined to these in ``RAW_TABLES``.

Every bound holds for all of the 2013 source (336,776 flights, 26,115 weather hours): a delivery
breaking one is new, not the source's habit.
"""

from pipeline.constants import RAW_SCHEMA
from pipeline.defs.declarations import declared_tables
from pipeline.defs.raw.landed_file import landed_file_table
from pipeline.defs.rules import CARRIER_CODE, DELAY_MINUTES, FAA_CODE, NYC_AIRPORT, TAIL_NUMBER
from pipeline.warehouse.tables import (
    MONTHLY,
    Agreement,
    Column,
    at_least,
    at_most,
    column,
    greater_than,
    hhmm,
    in_range,
    matches,
)

CLOCK = "local clock time as hhmm (830 is 08:30)"
# Scheduled times are 0000–2359. Actual times are written 1–2400: the source writes a departure or
# arrival at midnight as 2400, never 0 (2013: 29 departures and 150 arrivals at 2400, none at 0).
SCHEDULED_CLOCK = hhmm(0, 2359)
ACTUAL_CLOCK = hhmm(1, 2400)
YEAR, MONTH, DAY, HOUR = in_range(1900, 2100), in_range(1, 12), in_range(1, 31), in_range(0, 23)
# An hour in UTC as ISO 8601 text: the flights' scheduled hour, the weather's observed hour.
UTC_HOUR = matches(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:00:00Z$")
NYC_TIME_ZONE = "America/New_York"  # every flight departs, and every weather station stands, there


def _minutes(hhmm_column: str) -> str:
    # INTEGER arithmetic: DuckDB does SMALLINT/TINYINT arithmetic in the narrow type and overflows.
    return f"({hhmm_column}::integer // 100 * 60 + {hhmm_column}::integer % 100)"


def _utc_hour_is_local(date_and_hour: str) -> Agreement:
    """time_hour is the local (New York) hour of (year, month, day, hour) as a UTC instant.

    Compared as timestamps (UTC to local is unique even in the repeated hour when daylight saving
    ends); a time_hour that is no instant, or a date that does not exist, breaks it.
    """
    return Agreement(
        ("time_hour", "year", "month", "day", "hour"),
        f"coalesce(timezone('{NYC_TIME_ZONE}', try_cast(time_hour as timestamptz)) "
        "= try(make_timestamp(year, month, day, hour, 0, 0)), false)",
        f"time_hour is {date_and_hour} at New York as an instant in UTC",
    )


def _delay_agrees(kind: str) -> Agreement:
    """``<kind>_delay`` is the actual minus the scheduled clock time, modulo a day (2013: no exception)."""
    actual, scheduled, delay = f"{kind}_time", f"sched_{kind}_time", f"{kind}_delay"
    return Agreement(
        (delay, actual, scheduled),
        f"({_minutes(actual)} - {_minutes(scheduled)} - {delay}::integer) % 1440 = 0",
        f"{delay} is {actual} minus {scheduled} in minutes, modulo a day",
    )


def _local_date_columns(event: str) -> tuple[Column, ...]:
    """year, month and day of ``event``'s local date, as the monthly files give them."""
    return (
        column("year", "SMALLINT", f"Year of {event} (local date).", YEAR),
        column("month", "TINYINT", f"Month of {event}, 1–12.", MONTH),
        column("day", "TINYINT", f"Day of month of {event}.", DAY),
    )


FLIGHTS = landed_file_table(
    "flights",
    "Landed flights departing NYC, one partition per month as upstream delivered them.",
    (
        *_local_date_columns("the scheduled departure"),
        column(
            "dep_time",
            "SMALLINT",
            f"Actual departure, {CLOCK} at the origin, 1–2400 (midnight is 2400); NA when cancelled.",
            ACTUAL_CLOCK,
            nullable=True,
        ),
        column("sched_dep_time", "SMALLINT", f"Scheduled departure, {CLOCK} at the origin.", SCHEDULED_CLOCK),
        column(
            "dep_delay",
            "SMALLINT",
            "Departure delay in minutes (negative: early); NA when cancelled.",
            DELAY_MINUTES,
            nullable=True,
        ),
        column(
            "arr_time",
            "SMALLINT",
            f"Actual arrival, {CLOCK} at the destination, 1–2400 (midnight is 2400).",
            ACTUAL_CLOCK,
            nullable=True,
        ),
        column(
            "sched_arr_time", "SMALLINT", f"Scheduled arrival, {CLOCK} at the destination.", SCHEDULED_CLOCK
        ),
        column(
            "arr_delay",
            "SMALLINT",
            "Arrival delay in minutes (negative: early); NA when cancelled or diverted.",
            DELAY_MINUTES,
            nullable=True,
        ),
        column("carrier", "VARCHAR", "Two-character carrier code (see airlines).", CARRIER_CODE),
        column("flight", "INTEGER", "Flight number.", in_range(1, 9999)),
        column(
            "tailnum",
            "VARCHAR",
            "Plane tail number (see planes); NA when unknown.",
            TAIL_NUMBER,
            nullable=True,
        ),
        column("origin", "VARCHAR", "FAA code of the NYC departure airport: EWR, JFK or LGA.", NYC_AIRPORT),
        column("dest", "VARCHAR", "FAA code of the destination airport.", FAA_CODE),
        column(
            "air_time",
            "SMALLINT",
            "Minutes in the air; NA when cancelled or diverted.",
            in_range(1, 1440),
            nullable=True,
        ),
        column(
            "distance", "SMALLINT", "Distance between the airports in miles.", greater_than(0), at_most(12500)
        ),
        column("hour", "TINYINT", "Hour of the scheduled departure (0–23).", HOUR),
        column("minute", "TINYINT", "Minute of the scheduled departure (0–59).", in_range(0, 59)),
        column(
            "time_hour", "VARCHAR", "Scheduled departure hour in UTC, ISO 8601 text ending in Z.", UTC_HOUR
        ),
    ),
    lands=MONTHLY,
    unique=("year", "month", "day", "carrier", "flight", "origin", "sched_dep_time"),
    row_rules=(
        Agreement(
            ("hour", "minute", "sched_dep_time"),
            "hour::integer * 100 + minute = sched_dep_time",
            "hour and minute are sched_dep_time's hours and minutes",
        ),
        _delay_agrees("dep"),
        _delay_agrees("arr"),
        Agreement(
            ("dep_delay", "dep_time"),
            "(dep_time is null) = (dep_delay is null)",
            "a departure delay is given exactly when a departure time is (cancelled: neither)",
        ),
        Agreement(
            ("arr_time", "dep_time"),
            "dep_time is not null or arr_time is null",
            "no arrival time for a flight that did not depart",
        ),
        Agreement(
            ("arr_delay", "arr_time"),
            "arr_time is not null or arr_delay is null",
            "no arrival delay without an arrival time",
        ),
        Agreement(
            ("air_time", "arr_delay"),
            "(arr_delay is null) = (air_time is null)",
            "air time is given exactly when the arrival delay is (diverted or cancelled: neither)",
        ),
        _utc_hour_is_local("the scheduled departure's date and hour"),
    ),
)

WEATHER = landed_file_table(
    "weather",
    "Landed hourly weather at EWR, JFK and LGA, one partition per month.",
    (
        column("origin", "VARCHAR", "FAA code of the observing NYC airport.", NYC_AIRPORT),
        *_local_date_columns("the observation"),
        column("hour", "TINYINT", "Local hour of the observation (0–23).", HOUR),
        column("temp", "DOUBLE", "Temperature in °F.", in_range(-60, 130), nullable=True),
        column("dewp", "DOUBLE", "Dew point in °F.", in_range(-80, 100), nullable=True),
        column("humid", "DOUBLE", "Relative humidity in percent.", in_range(0, 100), nullable=True),
        column("wind_dir", "SMALLINT", "Wind direction in degrees.", in_range(0, 360), nullable=True),
        # Only the sign: the source has a 1,048 mph reading that staging's readings_plausible reports.
        column("wind_speed", "DOUBLE", "Wind speed in mph.", at_least(0), nullable=True),
        column("wind_gust", "DOUBLE", "Wind gust speed in mph.", at_least(0), nullable=True),
        column(
            "precip", "DOUBLE", "Precipitation in inches during the hour.", in_range(0, 20), nullable=True
        ),
        column("pressure", "DOUBLE", "Sea-level pressure in millibars.", in_range(850, 1100), nullable=True),
        column("visib", "DOUBLE", "Visibility in miles.", at_least(0), nullable=True),
        column("time_hour", "VARCHAR", "Observed hour in UTC, ISO 8601 text ending in Z.", UTC_HOUR),
    ),
    # Not (origin, year, month, day, hour): the hour after 01:00 on the day daylight saving ends
    # is 01:00 again (three such pairs in 2013); the UTC hour tells them apart.
    lands=MONTHLY,
    unique=("origin", "time_hour"),
    row_rules=(
        _utc_hour_is_local("the observation's date and hour"),
        Agreement(("dewp", "temp"), "dewp <= temp", "the dew point is never above the temperature"),
        Agreement(
            ("wind_gust", "wind_speed"), "wind_gust >= wind_speed", "a gust is at least the wind speed"
        ),
    ),
)

RAW_TABLES = {table.name: table for table in (FLIGHTS, WEATHER, *declared_tables(RAW_SCHEMA))}
"""Flights and weather are declared here; the dimensions in their folders (``raw/<table>/defs.yaml``)."""
