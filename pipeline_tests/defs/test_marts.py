"""Marts: figures recomputed independently with pandas straight from the source CSVs."""

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def carrier_months(warehouse_conn) -> pd.DataFrame:
    return warehouse_conn.execute("select * from marts.carrier_monthly_performance").fetchdf()


def test_carrier_monthly_flights_and_delays_match_the_source(carrier_months, source_flights):
    expected = (
        source_flights.groupby(["carrier", "month"])
        .agg(
            flights=("flight", "size"),
            cancelled=("dep_time", lambda s: s.isna().sum()),
            mean_dep=("dep_delay", "mean"),
            p90_arr=("arr_delay", lambda s: s.quantile(0.9)),
        )
        .reset_index()
    )
    actual = carrier_months.assign(month=pd.to_datetime(carrier_months.month).dt.month)
    merged = expected.merge(actual, on=["carrier", "month"], how="outer", indicator=True)
    assert (merged._merge == "both").all()
    assert len(merged) == 185
    assert (merged.flights_x == merged.flights_y).all()
    assert (merged.cancelled == merged.cancelled_flights).all()
    assert np.allclose(merged.mean_dep, merged.mean_dep_delay_minutes, equal_nan=True)
    assert np.allclose(merged.p90_arr, merged.p90_arr_delay_minutes, equal_nan=True)


def test_carrier_totals_are_the_known_facts(carrier_months):
    assert carrier_months.flights.sum() == 336_776
    assert carrier_months.cancelled_flights.sum() == 8_255
    assert carrier_months.carrier.nunique() == 16
    assert carrier_months.carrier_name.notna().all()


def test_on_time_share_matches_the_source(carrier_months, source_flights):
    departed = source_flights[source_flights.dep_time.notna()]
    expected = (departed.arr_delay <= 15).groupby(departed.carrier).mean()
    yearly = (
        carrier_months.assign(
            on_time=carrier_months.on_time_share
            * (carrier_months.flights - carrier_months.cancelled_flights),
            departed=carrier_months.flights - carrier_months.cancelled_flights,
        )
        .groupby("carrier")[["on_time", "departed"]]
        .sum()
    )
    assert np.allclose(yearly.on_time / yearly.departed, expected.loc[yearly.index])


def test_route_performance_matches_the_source(warehouse_conn, source_flights):
    routes = warehouse_conn.execute("select * from marts.route_performance").fetchdf()
    expected = source_flights.groupby(["origin", "dest"]).agg(
        flights=("flight", "size"), mean_arr=("arr_delay", "mean")
    )
    actual = routes.set_index(["origin", "dest"]).loc[expected.index]
    assert len(routes) == len(expected) == 224
    assert (actual.flights == expected.flights).all()
    assert np.allclose(actual.mean_arr_delay_minutes, expected.mean_arr, equal_nan=True)
    assert routes.loc[(routes.origin == "JFK") & (routes.dest == "LAX"), "distance_miles"].item() == 2475


def test_weather_impact_accounts_for_every_flight(warehouse_conn, source_dir, source_flights):
    impact = warehouse_conn.execute("select * from marts.weather_impact").fetchdf()
    assert impact.groupby("factor").flights.sum().to_dict() == {
        "precipitation": 336_776,
        "visibility": 336_776,
        "wind": 336_776,
    }
    weather = pd.read_csv(source_dir / "weather.csv", na_values=["NA"], keep_default_na=False)
    joined = source_flights.merge(weather, on=["origin", "time_hour"], how="left", suffixes=("", "_w"))
    heavy_rain = joined[joined.precip > 0.1]
    row = impact[(impact.factor == "precipitation") & (impact.bin == "heavy (> 0.1 in/h)")].iloc[0]
    assert row.flights == len(heavy_rain)
    assert row.mean_dep_delay_minutes == pytest.approx(heavy_rain.dep_delay.mean())
    dry = impact[(impact.factor == "precipitation") & (impact.bin == "none")].iloc[0]
    assert row.mean_dep_delay_minutes > dry.mean_dep_delay_minutes


def test_fleet_performance_by_manufacturer_and_age(warehouse_conn, source_dir, source_flights):
    fleet = warehouse_conn.execute("select * from marts.fleet_performance").fetchdf()
    assert fleet.flights.sum() == 336_776
    planes = pd.read_csv(source_dir / "planes.csv", na_values=["NA"], keep_default_na=False)
    joined = source_flights.merge(
        planes[["tailnum", "year"]], on="tailnum", how="left", suffixes=("", "_built")
    )
    age = 2013 - joined.year_built
    young = joined[age < 5]
    assert fleet[fleet.age_band == "00–04 years"].flights.sum() == len(young)
    unknown = joined.year_built.isna().sum()
    assert fleet[fleet.age_band == "unknown"].flights.sum() == unknown


def test_weather_delay_model_matches_a_least_squares_fit_of_the_source(
    warehouse_conn, source_dir, source_flights
):
    """The graph-backed mart (sums in DuckDB, then a solve) equals numpy's lstsq on the raw rows."""
    weather = pd.read_csv(source_dir / "weather.csv", na_values=["NA"], keep_default_na=False)
    joined = source_flights.merge(
        weather[["origin", "time_hour", "precip", "visib", "wind_speed"]], on=["origin", "time_hour"]
    ).dropna(subset=["dep_delay", "precip", "visib", "wind_speed"])
    joined = joined[joined.wind_speed <= 100]  # the one 1,048 mph reading is a sensor fault
    model = warehouse_conn.execute("select * from marts.weather_delay_model").fetchdf()

    assert sorted(model.origin.unique()) == ["EWR", "JFK", "LGA"] and len(model) == 9
    for origin, rows in joined.groupby("origin"):
        x = np.column_stack([np.ones(len(rows)), rows.precip, rows.visib, rows.wind_speed])
        coefficients, *_ = np.linalg.lstsq(x, rows.dep_delay.to_numpy(dtype=float), rcond=None)
        residual = rows.dep_delay - x @ coefficients
        r_squared = 1 - (residual**2).sum() / ((rows.dep_delay - rows.dep_delay.mean()) ** 2).sum()
        fitted = (
            model[model.origin == origin].set_index("factor").loc[["precipitation", "visibility", "wind"]]
        )
        assert fitted.minutes_per_unit.to_numpy() == pytest.approx(coefficients[1:], rel=1e-6)
        assert fitted.baseline_minutes.to_numpy() == pytest.approx([coefficients[0]] * 3, rel=1e-6)
        assert fitted.r_squared.to_numpy() == pytest.approx([r_squared] * 3, rel=1e-6)
        assert (fitted.flights == len(rows)).all()
        # rain in the departure hour delays departures at every airport
        assert fitted.loc["precipitation", "minutes_per_unit"] > 0
