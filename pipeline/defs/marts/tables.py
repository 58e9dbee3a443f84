"""The mart tables: one row per stated grain, small enough to hand to pandas and the report.

Their rules are validated on the DataFrame (pandera, derived from these declarations) before the
IO manager writes it.
"""

from datetime import datetime

from pipeline.constants import MARTS_SCHEMA
from pipeline.defs.rules import (
    CANCELLATION_RATE,
    CARRIER_CODE,
    COUNT,
    DELAY_MINUTES,
    FAA_CODE,
    FLIGHTS_COUNT,
    NYC_AIRPORT,
    ON_TIME_SHARE,
    SHARE,
    WEATHER_FACTORS,
    delay_columns,
)
from pipeline.partitions import monthly_partitions
from pipeline.warehouse.tables import RowRule, Table, column, greater_than, in_range, one_of

MONTHS = in_range(
    datetime.fromisoformat(monthly_partitions.get_first_partition_key()),
    datetime.fromisoformat(monthly_partitions.get_last_partition_key()),
)
AGE_BANDS = ("00–04 years", "05–09 years", "10–14 years", "15–19 years", "20 years or more", "unknown")
WEATHER_FACTOR = one_of(list(WEATHER_FACTORS))
# Columns several marts share, declared once.
ORIGIN = column("origin", "VARCHAR", "FAA code of the NYC departure airport.", NYC_AIRPORT)
FACTOR = column("factor", "VARCHAR", "Weather factor: precipitation, visibility or wind.", WEATHER_FACTOR)

CARRIER_MONTHLY_PERFORMANCE = Table(
    MARTS_SCHEMA,
    "carrier_monthly_performance",
    "One row per carrier and month: flights, cancellations, delays and on-time share.",
    (
        column("carrier", "VARCHAR", "Two-character carrier code.", CARRIER_CODE),
        column("carrier_name", "VARCHAR", "Airline name; every carrier must be in staging/airlines."),
        column("month", "TIMESTAMP", "First day of the month of scheduled departure (local date).", MONTHS),
        FLIGHTS_COUNT,
        column("cancelled_flights", "BIGINT", "Flights that never departed.", COUNT),
        CANCELLATION_RATE,
        *delay_columns(
            "mean_dep_delay_minutes",
            "p90_dep_delay_minutes",
            "mean_arr_delay_minutes",
            "p90_arr_delay_minutes",
        ),
        ON_TIME_SHARE,
    ),
    unique=("carrier", "month"),
    row_rules=(RowRule("cancelled_flights", "<=", "flights"),),
)

ROUTE_PERFORMANCE = Table(
    MARTS_SCHEMA,
    "route_performance",
    "One row per origin → destination route: distance, flights, delays and on-time share.",
    (
        ORIGIN,
        column("dest", "VARCHAR", "FAA code of the destination.", FAA_CODE),
        column(
            "dest_name", "VARCHAR", "Destination airport name; every destination must be in staging/airports."
        ),
        column(
            "distance_miles",
            "INTEGER",
            "Median great-circle distance of the route's flights in miles.",
            greater_than(0),
        ),
        FLIGHTS_COUNT,
        column("carriers", "BIGINT", "Distinct carriers flying the route.", greater_than(0)),
        CANCELLATION_RATE,
        *delay_columns("mean_dep_delay_minutes", "mean_arr_delay_minutes", "p90_arr_delay_minutes"),
        ON_TIME_SHARE,
    ),
    unique=("origin", "dest"),
)

WEATHER_IMPACT = Table(
    MARTS_SCHEMA,
    "weather_impact",
    "One row per weather factor and bin: departure delays under precipitation, visibility and wind.",
    (
        FACTOR,
        column(
            "bin", "VARCHAR", "Range of the factor at the origin in the scheduled hour, or 'no observation'."
        ),
        FLIGHTS_COUNT,
        CANCELLATION_RATE,
        *delay_columns("mean_dep_delay_minutes", "p90_dep_delay_minutes"),
        column(
            "delayed_share",
            "DOUBLE",
            "Share (0–1) of departed flights that left more than 15 minutes late; null when none departed.",
            SHARE,
            nullable=True,
        ),
    ),
    unique=("factor", "bin"),
)

FLEET_PERFORMANCE = Table(
    MARTS_SCHEMA,
    "fleet_performance",
    "One row per manufacturer and plane-age band: flights, planes and delays.",
    (
        column(
            "manufacturer",
            "VARCHAR",
            "Unified manufacturer name, or 'unknown' when the plane is not in planes.",
        ),
        column(
            "age_band",
            "VARCHAR",
            "Plane age in the flight's year, in five-year bands, or 'unknown'.",
            one_of(AGE_BANDS),
        ),
        FLIGHTS_COUNT,
        column("planes", "BIGINT", "Distinct tail numbers that flew.", COUNT),
        CANCELLATION_RATE,
        *delay_columns("mean_dep_delay_minutes", "mean_arr_delay_minutes", "p90_arr_delay_minutes"),
    ),
    unique=("manufacturer", "age_band"),
)

WEATHER_DELAY_MODEL = Table(
    MARTS_SCHEMA,
    "weather_delay_model",
    "One row per origin airport and weather factor: fitted departure-delay effect, others held fixed.",
    (
        ORIGIN,
        FACTOR,
        column(
            "minutes_per_unit",
            "DOUBLE",
            "Fitted change in departure delay (minutes) per unit of the factor.",
            in_range(-1440, 1440),
        ),
        column("unit", "VARCHAR", "Unit of minutes_per_unit, e.g. minutes per inch of rain in the hour."),
        column(
            "baseline_minutes",
            "DOUBLE",
            "Fitted delay in minutes with every factor at zero (the intercept).",
            DELAY_MINUTES,
        ),
        column(
            "flights",
            "BIGINT",
            "Departed flights with a delay and a full weather observation in the fit.",
            greater_than(0),
        ),
        column(
            "r_squared",
            "DOUBLE",
            "Share (0–1) of the delay variance the three factors explain.",
            in_range(0, 1),
        ),
    ),
    unique=("origin", "factor"),
)
