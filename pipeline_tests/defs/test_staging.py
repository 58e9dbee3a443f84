"""Staging layer: flights placed in time with time zones, integer delays, cancellations flagged,
dimensions deduplicated — each compared with an independent computation from the source files."""

from zoneinfo import ZoneInfo

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def source_airports(source_dir) -> pd.DataFrame:
    return pd.read_csv(source_dir / "airports.csv", na_values=["NA"], keep_default_na=False)


def test_every_flight_is_staged_once(warehouse_conn):
    rows, identities = warehouse_conn.execute(
        "select count(*), count(distinct (carrier, flight_number, origin, sched_dep_at)) from staging.flights"
    ).fetchall()[0]
    assert rows == identities == 336_776


def test_cancelled_flights_are_flagged_with_null_delays(warehouse_conn):
    cancelled, with_delay = warehouse_conn.execute(
        """
        select count(*), count(dep_delay_minutes) + count(arr_delay_minutes) + count(dep_at)
        from staging.flights where is_cancelled
        """
    ).fetchall()[0]
    assert (cancelled, with_delay) == (8_255, 0)


def test_delays_are_integers_and_times_are_time_zone_aware(warehouse_conn):
    types = dict(
        warehouse_conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'staging' and table_name = 'flights'"
        ).fetchall()
    )
    assert types["dep_delay_minutes"] == types["arr_delay_minutes"] == "INTEGER"
    for column in ("sched_dep_at", "dep_at", "sched_arr_at", "arr_at"):
        assert types[column] == "TIMESTAMP WITH TIME ZONE"
    assert types["flight_date"] == "DATE"
    assert types["is_cancelled"] == "BOOLEAN"


def test_scheduled_departures_match_zoneinfo(warehouse_conn, source_flights):
    """All three origins are in America/New_York: recompute every departure with zoneinfo."""
    local = pd.to_datetime(
        {
            "year": source_flights.year,
            "month": source_flights.month,
            "day": source_flights.day,
            "hour": source_flights.sched_dep_time // 100,
            "minute": source_flights.sched_dep_time % 100,
        }
    )
    expected = local.dt.tz_localize("America/New_York").dt.tz_convert("UTC")
    staged = warehouse_conn.execute("select sched_dep_at from staging.flights").fetchdf().sched_dep_at
    staged_utc = staged.dt.tz_convert("UTC").sort_values(ignore_index=True)
    expected_utc = expected.sort_values(ignore_index=True)
    assert (staged_utc.astype(expected_utc.dtype) == expected_utc).all()


def _scheduled(row, hhmm: int, zone: str) -> pd.Timestamp:
    """The flight's date at the scheduled clock time ``hhmm`` (e.g. 1530) in ``zone``."""
    return pd.Timestamp(
        year=row.year, month=row.month, day=row.day, hour=hhmm // 100, minute=hhmm % 100, tz=ZoneInfo(zone)
    )


def test_arrivals_use_the_destination_time_zone(warehouse_conn, source_flights, source_airports):
    """A seeded sample of arrived flights, recomputed with zoneinfo from the source files."""
    time_zones = dict(zip(source_airports.faa, source_airports.tzone, strict=True)) | {
        "BQN": "America/Puerto_Rico",
        "PSE": "America/Puerto_Rico",
        "SJU": "America/Puerto_Rico",
        "STT": "America/St_Thomas",
    }
    sample = source_flights.dropna(subset=["arr_delay"]).sample(500, random_state=7)
    expected = []
    for row in sample.itertuples(index=False):
        departure = _scheduled(row, row.sched_dep_time, "America/New_York")
        arrival = _scheduled(row, row.sched_arr_time, time_zones[row.dest])
        if arrival < departure:
            arrival += pd.Timedelta(days=1)
        expected.append(
            (
                row.carrier,
                row.flight,
                row.origin,
                departure,
                arrival,
                arrival + pd.Timedelta(minutes=row.arr_delay),
            )
        )
    warehouse_conn.register(
        "expected",
        pd.DataFrame(
            expected, columns=["carrier", "flight", "origin", "sched_dep_at", "sched_arr_at", "arr_at"]
        ),
    )
    mismatches = warehouse_conn.execute(
        """
        select expected.*, staged.sched_arr_at as staged_sched_arr_at, staged.arr_at as staged_arr_at
        from expected
        left join staging.flights as staged
            on staged.carrier = expected.carrier and staged.flight_number = expected.flight
            and staged.origin = expected.origin and staged.sched_dep_at = expected.sched_dep_at
        where staged.sched_arr_at is distinct from expected.sched_arr_at
           or staged.arr_at is distinct from expected.arr_at
        """
    ).fetchdf()
    assert mismatches.empty, mismatches.head()


# What staging/flights computed before it joined staging/time_zone_offsets: DuckDB's timezone() on
# every row, from raw.flights and staging.airports alone (in a UTC session, as the pipeline runs).
INSTANTS_THROUGH_DUCKDB_TIMEZONE = """
with localized as (
    select
        flights.*,
        make_date(flights.year, flights.month, flights.day) as flight_date,
        timezone(
            origin_zone.time_zone,
            make_date(flights.year, flights.month, flights.day)::timestamp
            + to_minutes((flights.sched_dep_time // 100) * 60 + flights.sched_dep_time % 100)
        ) as sched_dep_at,
        timezone(
            dest_zone.time_zone,
            make_date(flights.year, flights.month, flights.day)::timestamp
            + to_minutes((flights.sched_arr_time // 100) * 60 + flights.sched_arr_time % 100)
        ) as sched_arr_same_day
    from raw.flights as flights
    left join staging.airports as origin_zone on flights.origin = origin_zone.faa
    left join staging.airports as dest_zone on flights.dest = dest_zone.faa
),
scheduled as (
    select
        *,
        case
            when sched_arr_same_day < sched_dep_at then sched_arr_same_day + interval 1 day
            else sched_arr_same_day
        end as sched_arr_at
    from localized
)
select
    upper(carrier) as carrier, flight as flight_number, origin, dest, flight_date,
    sched_dep_at, sched_dep_at + to_minutes(dep_delay) as dep_at,
    sched_arr_at, sched_arr_at + to_minutes(arr_delay) as arr_at
from scheduled
"""


def test_every_flight_has_the_instants_duckdb_timezone_gives(warehouse_conn):
    """All 336,776 flights: the offsets table gives exactly the instants of timezone() per row."""
    conn = warehouse_conn.cursor()  # its own session: the UTC zone set here stays in it
    conn.execute("set TimeZone = 'UTC'")
    staged = (
        "select carrier, flight_number, origin, dest, flight_date, sched_dep_at, dep_at, sched_arr_at, arr_at "
        "from staging.flights"
    )
    conn.execute(f"create temp table through_timezone as {INSTANTS_THROUGH_DUCKDB_TIMEZONE}")
    conn.execute(f"create temp table staged as {staged}")
    counts = conn.execute(
        """
        select
            (select count(*) from through_timezone),
            (select count(*) from staged),
            (select count(*) from (from staged except all from through_timezone)),
            (select count(*) from (from through_timezone except all from staged)),
            (select count(*) from staged where sched_dep_at is null or sched_arr_at is null)
        """
    ).fetchone()
    assert counts == (336_776, 336_776, 0, 0, 0)


def test_every_destination_has_a_time_zone(warehouse_conn):
    missing = warehouse_conn.execute(
        "select count(*) from staging.flights where sched_arr_at is null"
    ).fetchall()[0][0]
    assert missing == 0


def test_airports_are_unique_and_supplemented(warehouse_conn):
    rows, codes, supplemented = warehouse_conn.execute(
        "select count(*), count(distinct faa), list(faa order by faa) filter (where from_reference_supplement) "
        "from staging.airports"
    ).fetchall()[0]
    assert rows == codes == 1_458 + 4
    assert supplemented == ["BQN", "PSE", "SJU", "STT"]


@pytest.mark.parametrize(
    ("table", "key", "rows"), [("airlines", "carrier", 16), ("planes", "tailnum", 3_322)]
)
def test_dimensions_are_deduplicated(warehouse_conn, table, key, rows):
    count, distinct = warehouse_conn.execute(
        f"select count(*), count(distinct {key}) from staging.{table}"
    ).fetchall()[0]
    assert count == distinct == rows


def test_weather_observations_carry_utc_hours(warehouse_conn):
    rows, first = warehouse_conn.execute(
        "select count(*), min(observed_at) from staging.weather where origin = 'EWR'"
    ).fetchall()[0]
    # The first EWR observation is 01:00 local on 1 January 2013, 06:00 UTC.
    assert first == pd.Timestamp("2013-01-01 06:00", tz="UTC")
    assert rows > 8_000
