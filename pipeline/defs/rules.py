"""Business rules every layer agrees on: one constant each, used by tables, SQL parameters and checks.

A table folder's ``defs.yaml`` names a column rule here by its constant (``rules: [CARRIER_CODE]``),
a row rule by its function (``row_rules: [delay_agrees: dep]``) and a column several marts share
by its name (``shared: flights``).
"""

from datetime import datetime

from pipeline.partitions import monthly_partitions
from pipeline.warehouse.tables import Agreement, at_least, column, hhmm, in_range, matches, one_of

NYC_AIRPORTS = ("EWR", "JFK", "LGA")
NYC_TIME_ZONE = "America/New_York"  # every flight departs, and every weather station stands, there
# Scheduled times are 0000–2359. Actual times are written 1–2400: the source writes a departure or
# arrival at midnight as 2400, never 0 (2013: 29 departures and 150 arrivals at 2400, none at 0).
SCHEDULED_CLOCK = hhmm(0, 2359)
ACTUAL_CLOCK = hhmm(1, 2400)
# An hour in UTC as ISO 8601 text: the flights' scheduled hour, the weather's observed hour.
UTC_HOUR = matches(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:00:00Z$")
CARRIER_CODE = matches(r"^[A-Z0-9]{2}$")
FAA_CODE = matches(r"^[A-Z0-9]{3}$")
TAIL_NUMBER = matches(r"^[A-Z0-9]+$")
NYC_AIRPORT = one_of(NYC_AIRPORTS)
# Four hours early to two days late: anything outside is a unit or keying error, not a flight.
DELAY_MINUTES = in_range(-240, 2880)
SHARE = in_range(0, 1)
COUNT = at_least(0)
# A wind reading above this is a sensor error (the 2013 source has a 1,048 mph one at EWR): the
# plausibility check warns about it and the weather delay model leaves it out.
MAX_PLAUSIBLE_WIND_MPH = 150.0
# Weather factors of weather_impact and the weather delay model, with the unit of a fitted effect.
WEATHER_FACTORS = {
    "precipitation": "minutes per inch of rain in the hour",
    "visibility": "minutes per mile of visibility",
    "wind": "minutes per mph of wind speed",
}

WEATHER_FACTOR = one_of(list(WEATHER_FACTORS))
# A month of the partitions, as the marts store it (its first day).
MONTHS = in_range(
    datetime.fromisoformat(monthly_partitions.get_first_partition_key()),
    datetime.fromisoformat(monthly_partitions.get_last_partition_key()),
)


def delay_columns(*names: str):
    """The delay statistics marts share, by name: mean and 90th percentile, minutes."""
    described = {
        "mean_dep_delay_minutes": "Mean departure delay in minutes over flights that reported one (negative: early).",
        "p90_dep_delay_minutes": "90th percentile of departure delay in minutes over flights that reported one.",
        "mean_arr_delay_minutes": "Mean arrival delay in minutes over flights that reported one (negative: early).",
        "p90_arr_delay_minutes": "90th percentile of arrival delay in minutes over flights that reported one.",
    }
    return tuple(
        column(
            name,
            "DOUBLE",
            described[name] + " Null when no flight reported it.",
            DELAY_MINUTES,
            nullable=True,
        )
        for name in names
    )


FLIGHTS_COUNT = column(
    "flights", "BIGINT", "Scheduled flights in the group, cancelled ones included.", in_range(1, 10**9)
)
CANCELLATION_RATE = column(
    "cancellation_rate", "DOUBLE", "Cancelled flights divided by scheduled flights (0–1).", SHARE
)
ON_TIME_SHARE = column(
    "on_time_share",
    "DOUBLE",
    "Share (0–1) of departed flights that arrived no more than 15 minutes late; diverted flights "
    "count as not on time. Null when no flight departed.",
    SHARE,
    nullable=True,
)
ORIGIN = column("origin", "VARCHAR", "FAA code of the NYC departure airport.", NYC_AIRPORT)
FACTOR = column("factor", "VARCHAR", "Weather factor: precipitation, visibility or wind.", WEATHER_FACTOR)
# Columns several marts share, declared once: a folder names one with ``- shared: <name>``.
SHARED_COLUMNS = {
    shared.name: shared
    for shared in (
        FLIGHTS_COUNT,
        CANCELLATION_RATE,
        ON_TIME_SHARE,
        ORIGIN,
        FACTOR,
        *delay_columns(
            "mean_dep_delay_minutes",
            "p90_dep_delay_minutes",
            "mean_arr_delay_minutes",
            "p90_arr_delay_minutes",
        ),
    )
}


def _minutes(hhmm_column: str) -> str:
    # INTEGER arithmetic: DuckDB does SMALLINT/TINYINT arithmetic in the narrow type and overflows.
    return f"({hhmm_column}::integer // 100 * 60 + {hhmm_column}::integer % 100)"


def utc_hour_is_local(date_and_hour: str) -> Agreement:
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


def delay_agrees(kind: str) -> Agreement:
    """``<kind>_delay`` is the actual minus the scheduled clock time, modulo a day (2013: no exception)."""
    actual, scheduled, delay = f"{kind}_time", f"sched_{kind}_time", f"{kind}_delay"
    return Agreement(
        (delay, actual, scheduled),
        f"({_minutes(actual)} - {_minutes(scheduled)} - {delay}::integer) % 1440 = 0",
        f"{delay} is {actual} minus {scheduled} in minutes, modulo a day",
    )
