"""``marts/weather_delay_model``: departure delay regressed on the origin's weather, per airport.

A graph-backed asset: one op sums squares and cross-products of delay and weather inside DuckDB
(``weather_delay_moments.sql``), so only three small rows leave the warehouse; a second op solves
the least-squares fit per origin from those sums with numpy (imported by the op, not at load).
"""

from typing import TYPE_CHECKING

import dagster as dg

from pipeline.automation.conditions import TRANSIENT_FAILURE_RETRY, refresh_with_landed_months
from pipeline.automation.maintenance import INTERMEDIATE_IO_MANAGER
from pipeline.defs.marts import tables
from pipeline.defs.marts.assets import query_mart_sql
from pipeline.defs.rules import MAX_PLAUSIBLE_WIND_MPH, WEATHER_FACTORS
from pipeline.defs.staging import tables as staging
from pipeline.warehouse.contracts import DataFrameContractType
from pipeline.warehouse.outputs import DATAFRAME
from pipeline.warehouse.resources import Warehouse

if TYPE_CHECKING:
    import numpy as np


@dg.op(
    ins={"flights": dg.In(dg.Nothing), "weather": dg.In(dg.Nothing)},
    out=dg.Out(DATAFRAME, io_manager_key=INTERMEDIATE_IO_MANAGER),
    retry_policy=TRANSIENT_FAILURE_RETRY,
)
def weather_delay_moments(warehouse: Warehouse):
    """Per origin, the sums of squares and cross-products of delay and weather, from DuckDB."""
    return query_mart_sql(
        warehouse, "weather_delay_moments", {"max_plausible_wind_mph": MAX_PLAUSIBLE_WIND_MPH}
    )


def _moment(row: dict, *names: str | None) -> float:
    named = [name for name in names if name]
    return row["sum_" + "_".join(named)] if named else row["n"]


def fit_from_moments(row: dict) -> "tuple[np.ndarray, float]":
    """Least-squares coefficients (intercept, then WEATHER_FACTORS) and R², by the normal equations."""
    import numpy as np

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


@dg.op(
    ins={"moments": dg.In(DATAFRAME)},
    out=dg.Out(dagster_type=DataFrameContractType(tables.WEATHER_DELAY_MODEL)),
)
def fit_weather_delay_model(moments):
    """Departure delay ~ precipitation + visibility + wind, fitted per origin airport."""
    import pandas as pd

    rows = []
    for row in moments.to_dict("records"):
        coefficients, r_squared = fit_from_moments(row)
        for factor, effect in zip(WEATHER_FACTORS, coefficients[1:], strict=True):
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
    **tables.WEATHER_DELAY_MODEL.asset_properties(sql_name="weather_delay_moments"),
    kinds={"duckdb", "numpy"},
    ins={
        "flights": dg.AssetIn(key=staging.FLIGHTS.asset_key, dagster_type=dg.Nothing),
        "weather": dg.AssetIn(key=staging.WEATHER.asset_key, dagster_type=dg.Nothing),
    },
    automation_condition=refresh_with_landed_months(),
)
def weather_delay_model(flights, weather):
    """One row per origin and weather factor: departure-delay minutes per unit, others held fixed."""
    return fit_weather_delay_model(weather_delay_moments(flights=flights, weather=weather))
