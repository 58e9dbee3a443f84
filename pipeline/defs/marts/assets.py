"""Group "marts": analytics tables, one row per stated grain, built from staging.

Aggregation runs inside DuckDB; only the small result becomes a DataFrame, which the IO manager
stores (and which later steps, like the report, load back).
"""


import dagster as dg
import numpy as np
import pandas as pd

from pipeline import constants
from pipeline.warehouse import contracts
from pipeline.defs.staging import assets as staging
from pipeline.automation.conditions import TRANSIENT_FAILURE_RETRY, refresh_with_landed_months
from pipeline.automation.maintenance import INTERMEDIATE_IO_MANAGER
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.connection import read_sql

MARTS = [constants.MARTS_SCHEMA]


def _query(warehouse: Warehouse, name: str) -> pd.DataFrame:
    with warehouse.connect() as conn:
        return conn.execute(read_sql("marts", name)).fetchdf()


def _sql_mart(name: str, description: str, deps: list, dagster_type: dg.DagsterType) -> dg.AssetsDefinition:
    """A mart computed by ``sql/marts/<name>.sql`` in DuckDB and stored as a DataFrame."""

    @dg.asset(
        name=name,
        key_prefix=MARTS,
        group_name="marts",
        description=description,
        kinds={"duckdb", "pandas"},
        deps=deps,
        dagster_type=dagster_type,
        automation_condition=refresh_with_landed_months(),
        retry_policy=TRANSIENT_FAILURE_RETRY,
    )
    def sql_mart(warehouse: Warehouse) -> pd.DataFrame:
        return _query(warehouse, name)

    return sql_mart


carrier_monthly_performance = _sql_mart(
    "carrier_monthly_performance",
    "One row per carrier and month: flights, cancellations, delays and on-time share.",
    [staging.flights, staging.airlines],
    contracts.MartsCarrierMonthlyPerformance,
)
route_performance = _sql_mart(
    "route_performance",
    "One row per origin → destination route: distance, flights, delays and on-time share.",
    [staging.flights, staging.airports],
    contracts.MartsRoutePerformance,
)
weather_impact = _sql_mart(
    "weather_impact",
    "One row per weather factor and bin: departure delays under precipitation, visibility, wind.",
    [staging.flights, staging.weather],
    contracts.MartsWeatherImpact,
)
fleet_performance = _sql_mart(
    "fleet_performance",
    "One row per manufacturer and plane-age band: flights, planes and delays.",
    [staging.flights, staging.planes],
    contracts.MartsFleetPerformance,
)


WEATHER_FACTORS = {  # factor → unit of its estimated effect
    "precipitation": "minutes per inch of rain in the hour",
    "visibility": "minutes per mile of visibility",
    "wind": "minutes per mph of wind speed",
}


@dg.op(
    ins={"flights": dg.In(dg.Nothing), "weather": dg.In(dg.Nothing)},
    out=dg.Out(io_manager_key=INTERMEDIATE_IO_MANAGER),
    retry_policy=TRANSIENT_FAILURE_RETRY,
)
def weather_delay_moments(warehouse: Warehouse) -> pd.DataFrame:
    """Per origin, the sums of squares and cross-products of delay and weather, from DuckDB."""
    return _query(warehouse, "weather_delay_moments")


def _moment(row: dict, *names: str | None) -> float:
    named = [name for name in names if name]
    return row["sum_" + "_".join(named)] if named else row["n"]


def fit_from_moments(row: dict) -> tuple[np.ndarray, float]:
    """Least-squares coefficients (intercept, then WEATHER_FACTORS) and R², by the normal equations."""
    terms = [None, *WEATHER_FACTORS]
    xtx = np.empty((len(terms), len(terms)))
    xty = np.empty(len(terms))
    for i, row_term in enumerate(terms):
        xty[i] = _moment(row, row_term, "delay")
        for j in range(i, len(terms)):
            xtx[i, j] = xtx[j, i] = _moment(row, row_term, terms[j])
    coefficients = np.linalg.solve(xtx, xty)
    total = row["sum_delay_delay"] - row["sum_delay"] ** 2 / row["n"]
    residual = row["sum_delay_delay"] - coefficients @ xty
    return coefficients, 1 - residual / total


@dg.op(out=dg.Out(dagster_type=contracts.MartsWeatherDelayModel))
def fit_weather_delay_model(moments: pd.DataFrame) -> pd.DataFrame:
    """Departure delay ~ precipitation + visibility + wind, fitted per origin airport."""
    rows = []
    for row in moments.to_dict("records"):
        coefficients, r_squared = fit_from_moments(row)
        for factor, effect in zip(WEATHER_FACTORS, coefficients[1:]):
            rows.append(
                {
                    "origin": row["origin"],
                    "factor": factor,
                    "minutes_per_unit": effect,
                    "unit": WEATHER_FACTORS[factor],
                    "baseline_minutes": coefficients[0],
                    "flights": int(row["n"]),
                    "r_squared": r_squared,
                }
            )
    return pd.DataFrame(rows)


@dg.graph_asset(
    key_prefix=MARTS,
    group_name="marts",
    kinds={"duckdb", "numpy"},
    ins={
        "flights": dg.AssetIn(key=staging.flights.key, dagster_type=dg.Nothing),
        "weather": dg.AssetIn(key=staging.weather.key, dagster_type=dg.Nothing),
    },
    automation_condition=refresh_with_landed_months(),
)
def weather_delay_model(flights, weather) -> pd.DataFrame:
    """One row per origin and weather factor: departure-delay minutes per unit, others held fixed."""
    return fit_weather_delay_model(weather_delay_moments(flights=flights, weather=weather))
