"""staging/time_zone_offsets: UTC offsets per time zone and local hour, from zoneinfo, that must give
the instants DuckDB's timezone() gives — checked minute by minute against DuckDB itself, DST gaps
and overlaps included, and on the built warehouse."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipeline.defs.staging import assets as staging_assets
from pipeline.defs.staging import time_zones
from pipeline_tests.support import folder_asset, make_resources, materialize

START, END = date(2013, 1, 1), date(2014, 1, 2)
# The airports' zones, and others whose rules differ: southern hemisphere, half-hour offsets,
# no daylight saving time.
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Vancouver",
    "America/Puerto_Rico",
    "America/St_Thomas",
    "Pacific/Honolulu",
    "Asia/Chongqing",
    "Europe/London",
    "Australia/Sydney",
    "America/Santiago",
    "Asia/Kolkata",
    "America/St_Johns",
]


def _duckdb_disagreements(local_times: list[tuple[str, datetime]]) -> list[tuple]:
    """The (zone, local time) pairs whose offset-based instant differs from DuckDB's timezone()."""
    offsets = pd.DataFrame(
        [(zone, local, time_zones.utc_offset_minutes(ZoneInfo(zone), local)) for zone, local in local_times],
        columns=["zone", "local", "utc_offset_minutes"],
    )
    with duckdb.connect() as conn:
        conn.register("offsets", offsets)
        return conn.execute(
            """
            select zone, local, utc_offset_minutes, timezone(zone, local) as duckdb
            from offsets
            where to_timestamp(epoch(local)::bigint - 60 * utc_offset_minutes) != timezone(zone, local)
            """
        ).fetchall()


def test_every_minute_around_each_offset_change_gives_duckdb_instants():
    """Every local minute of the day before, of and after each change, in every zone."""
    local_times = []
    for zone in ZONES:
        for first_hour, _, _ in time_zones.offset_periods(zone, START, END)[1:]:
            day = datetime.combine(first_hour.date() - timedelta(days=1), datetime.min.time())
            local_times += [(zone, day + timedelta(minutes=m)) for m in range(3 * 24 * 60)]
    # Two changes in each of the ten zones with daylight saving time in 2013.
    assert len(local_times) == 10 * 2 * 3 * 24 * 60
    assert _duckdb_disagreements(local_times) == []


def test_every_hour_of_the_range_gives_duckdb_instants():
    hours = (END - START).days * 24
    local_times = [
        (zone, datetime(2013, 1, 1) + timedelta(hours=hour)) for zone in ZONES for hour in range(hours)
    ]
    assert _duckdb_disagreements(local_times) == []


def test_skipped_and_repeated_hours_take_duckdb_offsets():
    new_york = ZoneInfo("America/New_York")
    # 2013-03-10 02:00–02:59 does not exist: read with the offset before the change (EST) ...
    assert time_zones.utc_offset_minutes(new_york, datetime(2013, 3, 10, 1, 59)) == -300
    assert time_zones.utc_offset_minutes(new_york, datetime(2013, 3, 10, 2, 30)) == -300
    assert time_zones.utc_offset_minutes(new_york, datetime(2013, 3, 10, 3, 0)) == -240
    # ... and 2013-11-03 01:00–01:59 exists twice: its later occurrence (EST).
    assert time_zones.utc_offset_minutes(new_york, datetime(2013, 11, 3, 0, 59)) == -240
    assert time_zones.utc_offset_minutes(new_york, datetime(2013, 11, 3, 1, 30)) == -300
    periods = time_zones.offset_periods("America/New_York", START, END)
    assert periods == (
        (datetime(2013, 1, 1), datetime(2013, 3, 10, 3), -300),
        (datetime(2013, 3, 10, 3), datetime(2013, 11, 3, 1), -240),
        (datetime(2013, 11, 3, 1), datetime(2014, 1, 2), -300),
    )
    assert time_zones.offset_periods("Pacific/Honolulu", START, END) == (
        (datetime(2013, 1, 1), datetime(2014, 1, 2), -600),
    )


def test_a_zone_that_changes_its_offset_within_an_hour_is_refused():
    # Lord Howe Island moves its clocks by half an hour, at 02:00 local time.
    with pytest.raises(time_zones.OffsetChangesWithinHour, match="Australia/Lord_Howe"):
        time_zones.offset_periods("Australia/Lord_Howe", START, END)


def test_the_built_table_covers_every_hour_of_every_airport_zone(warehouse_conn, built_warehouse):
    zones = {
        zone
        for (zone,) in warehouse_conn.execute(
            "select distinct time_zone from staging.airports where time_zone is not null"
        ).fetchall()
    }
    hours_by_zone = dict(
        warehouse_conn.execute(
            "select time_zone, count(distinct local_hour) from staging.time_zone_offsets group by all"
        ).fetchall()
    )
    assert hours_by_zone == dict.fromkeys(zones, (END - START).days * 24)
    [check] = [
        evaluation
        for evaluation in built_warehouse["result"].get_asset_check_evaluations()
        if evaluation.check_name == staging_assets.AGREES_WITH_DUCKDB
    ]
    assert check.passed
    assert check.metadata["failing_rows"].value == 0


def _first_occurrence_offset(zone: ZoneInfo, local: datetime) -> int:
    """zoneinfo's fold=0 alone: a repeated hour read as its first occurrence, not as DuckDB reads it."""
    return int(local.replace(tzinfo=zone).utcoffset() // timedelta(minutes=1))


def test_the_check_fails_when_an_offset_differs_from_duckdb(tmp_path, seeded_landing, monkeypatch):
    monkeypatch.setattr(time_zones, "utc_offset_minutes", _first_occurrence_offset)
    time_zones.offset_periods.cache_clear()
    try:
        result = materialize(
            [
                folder_asset("raw", "airports"),
                folder_asset("staging", "airports"),
                staging_assets.time_zone_offsets,
            ],
            resources=make_resources(tmp_path, seeded_landing),
            raise_on_error=False,
        )
    finally:
        time_zones.offset_periods.cache_clear()
    [check] = result.get_asset_check_evaluations()
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    # One repeated hour (2013-11-03 01:00) in each of the six zones with daylight saving time.
    assert check.metadata["failing_rows"].value == 6
    assert "2013-11-03 01:00:00" in str(check.metadata["sample"].value)
