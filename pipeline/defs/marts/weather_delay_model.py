"""``marts/weather_delay_model``: departure delay regressed on the origin's weather, per airport.

A graph-backed asset: one op sums squares and cross-products of delay and weather inside DuckDB
(``weather_delay_moments.sql``), so only three small rows leave the warehouse; a second op solves
the least-squares fit per origin from those sums with numpy (imported by the op, not at load); a
third publishes the fit (pipeline/warehouse/publish.py). The moments are read in one step and the
model written in another, so another run may change staging in between: the publishing step sums
the moments again inside its transaction and, if they differ from those fitted, refits on the
current ones — a stale fit is never published over a newer one. Its deps are the tables the
moments SQL reads, and its column lineage runs through the moments to their staging columns.
"""

from typing import TYPE_CHECKING

import dagster as dg
import duckdb

from pipeline.automation.conditions import TRANSIENT_FAILURE_RETRY, refresh_with_landed_months
from pipeline.defs.asset_sql import sql_file
from pipeline.defs.marts import tables
from pipeline.defs.rules import MAX_PLAUSIBLE_WIND_MPH, WEATHER_FACTORS
from pipeline.warehouse.contracts import DataFrameContractType
from pipeline.warehouse.outputs import DATAFRAME, INTERMEDIATE_IO_MANAGER
from pipeline.warehouse.publish import PublishedTableType, candidate_from_frame, publish
from pipeline.warehouse.resources import Warehouse

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from pipeline.warehouse.lineage import SourceColumn

MODEL_CONTRACT = DataFrameContractType(tables.WEATHER_DELAY_MODEL)
MOMENTS = sql_file("marts", "weather_delay_moments")
# The model's inputs, one per table the moments SQL reads: no data, only the order of the steps.
TABLES_READ = {table.asset_key.to_python_identifier(): table.asset_key for table in MOMENTS.reads}


def _moments(conn: duckdb.DuckDBPyConnection) -> "pd.DataFrame":
    return conn.execute(MOMENTS.sql, {"max_plausible_wind_mph": MAX_PLAUSIBLE_WIND_MPH}).fetchdf()


def model_column_lineage() -> "dict[str, list[SourceColumn]]":
    """Each model column and the source columns of the moments it is computed from.

    The fit solves one system of every sum, so each fitted number reads them all; ``flights`` is
    ``n``, which counts rows; ``factor`` and ``unit`` are labels (WEATHER_FACTORS), not data.
    """
    from pipeline.warehouse.lineage import column_lineage  # sqlglot: when the model is published

    moments = column_lineage(
        MOMENTS.sql,
        {table.qualified_name: table.column_names for table in MOMENTS.reads},
        sql_file=MOMENTS.path,
    )
    fitted = sorted({source for name, sources in moments.items() if name != "origin" for source in sources})
    return {
        "origin": moments["origin"],
        "factor": [],
        "minutes_per_unit": fitted,
        "unit": [],
        "baseline_minutes": fitted,
        "flights": moments["n"],
        "r_squared": fitted,
    }


def same_moments(current: "pd.DataFrame", fitted: "pd.DataFrame") -> bool:
    """Whether two readings of the moments are of the same data (sums may differ in the last bit:
    DuckDB adds in parallel, in no fixed order)."""
    import numpy as np

    if list(current["origin"]) != list(fitted["origin"]) or list(current.columns) != list(fitted.columns):
        return False
    numbers = [name for name in current.columns if name != "origin"]
    return bool(np.allclose(current[numbers].to_numpy(float), fitted[numbers].to_numpy(float), rtol=1e-9))


@dg.op(
    ins={name: dg.In(dg.Nothing) for name in TABLES_READ},
    out=dg.Out(DATAFRAME, io_manager_key=INTERMEDIATE_IO_MANAGER),
    retry_policy=TRANSIENT_FAILURE_RETRY,
)
def weather_delay_moments(warehouse: Warehouse):
    """Per origin, the sums of squares and cross-products of delay and weather, from DuckDB."""
    with warehouse.connect(read_only=True) as conn:
        return _moments(conn)


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


def fit(moments: "pd.DataFrame") -> "pd.DataFrame":
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


@dg.op(
    ins={"moments": dg.In(DATAFRAME)},
    out=dg.Out(MODEL_CONTRACT, io_manager_key=INTERMEDIATE_IO_MANAGER),
)
def fit_weather_delay_model(moments):
    """Departure delay ~ precipitation + visibility + wind, fitted per origin airport."""
    return fit(moments)


@dg.op(
    ins={"model": dg.In(MODEL_CONTRACT), "moments": dg.In(DATAFRAME)},
    out=dg.Out(PublishedTableType(tables.WEATHER_DELAY_MODEL)),
    retry_policy=TRANSIENT_FAILURE_RETRY,
)
def publish_weather_delay_model(context: dg.OpExecutionContext, model, moments, warehouse: Warehouse):
    """Publishes the model, refitted first if staging changed since its moments were read."""

    def build(conn: duckdb.DuckDBPyConnection) -> None:
        current = _moments(conn)
        fitted = model
        if not same_moments(current, moments):
            context.log.warning("staging changed after the moments were read: refitted on the current data.")
            fitted = fit(current)
        candidate_from_frame(fitted)(conn)

    from pipeline.warehouse.lineage import column_lineage_metadata

    publication = publish(
        warehouse, tables.WEATHER_DELAY_MODEL, build, metadata=column_lineage_metadata(model_column_lineage())
    )
    yield dg.Output(None, metadata=publication.materialization.metadata)


@dg.graph_asset(
    **tables.WEATHER_DELAY_MODEL.asset_properties(sql_name="weather_delay_moments"),
    kinds={"duckdb", "numpy"},
    ins={name: dg.AssetIn(key=key, dagster_type=dg.Nothing) for name, key in TABLES_READ.items()},
    automation_condition=refresh_with_landed_months(),
)
def weather_delay_model(**tables_read):
    """One row per origin and weather factor: departure-delay minutes per unit, others held fixed."""
    moments = weather_delay_moments(**tables_read)
    return publish_weather_delay_model(model=fit_weather_delay_model(moments), moments=moments)
