"""Business rules every layer agrees on: one constant each, used by tables, SQL parameters and checks."""

from pipeline.warehouse.tables import at_least, column, in_range, matches, one_of

NYC_AIRPORTS = ("EWR", "JFK", "LGA")
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
