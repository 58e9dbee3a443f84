"""The mart tables: one row per stated grain, small enough to hand to pandas and the report.

The marts built by SQL are declared in their folders (``marts/<table>/defs.yaml``); the weather
delay model, fitted in Python (``weather_delay_model.py``), here. Their rules are checked on the
candidate before it is published (``pipeline/warehouse/publish.py``); the model's also on its
DataFrame (pandera, derived from the declaration).
"""

from pipeline.constants import MARTS_SCHEMA
from pipeline.defs.declarations import declared_table
from pipeline.defs.rules import DELAY_MINUTES, SHARED_COLUMNS
from pipeline.warehouse.tables import Table, column, greater_than, in_range

CARRIER_MONTHLY_PERFORMANCE = declared_table(MARTS_SCHEMA, "carrier_monthly_performance")

WEATHER_DELAY_MODEL = Table(
    MARTS_SCHEMA,
    "weather_delay_model",
    "One row per origin airport and weather factor: fitted departure-delay effect, others held fixed.",
    (
        SHARED_COLUMNS["origin"],
        SHARED_COLUMNS["factor"],
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
