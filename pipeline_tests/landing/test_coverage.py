"""The completeness rule: a monthly delivery covers its month — flights on every day from every NYC
airport, weather for every hour at each of them but for as many hours as the 2013 source lacks —
or it is held like a volume-guard hold (nothing replaced, archived or quarantined; the file stays in
landing) with a message naming the file, the month and what is missing, until an operator accepts
it with the audited override. On a first delivery as on a replacement, whatever its row count."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from pipeline.defs.declarations import folder_tables
from pipeline.defs.raw.tables import RAW_TABLES
from pipeline.landing.archive import archived_versions
from pipeline.landing.coverage import CoverageFinding, Gap, check_coverage
from pipeline.landing.guard import ACCEPT_TAG
from pipeline.landing.ingest import inspect_landed_file
from pipeline_tests.landing.test_guard import fingerprint, materialization_metadata
from pipeline_tests.support import (
    copy_zone,
    folder_asset,
    landing_zone_under,
    load_flights,
    materialize,
    step_failure_message,
    stored_tables,
)

# What a complete month of each monthly raw table holds, as its folder declares it.
MONTH_COVERAGE = {
    found.table.name: coverage
    for found in folder_tables().values()
    if (coverage := found.declaration.month_coverage(found.table)) is not None
}

MARCH = "2013-03-01"
FLIGHTS_MARCH = "flights_2013-03.csv"


@pytest.fixture(scope="module")
def loaded_zone(tmp_path_factory, seeded_landing) -> Path:
    """Airports, airlines and flights of January to March loaded, once per module; weather of
    March and December only landed. Do not modify: ``zone`` hands each test a copy."""
    root = tmp_path_factory.mktemp("coverage")
    resources = landing_zone_under(
        root,
        seeded_landing,
        "airports.csv",
        "airlines.csv",
        *(f"flights_2013-0{month}.csv" for month in (1, 2, 3, 4)),
        "weather_2013-03.csv",
        "weather_2013-12.csv",
    )["resources"]
    assert materialize(
        [folder_asset("raw", "airports"), folder_asset("raw", "airlines")], resources=resources
    ).success
    for month in ("2013-01-01", "2013-02-01", MARCH):
        assert load_flights(resources, month).success
    return root


@pytest.fixture
def zone(tmp_path, loaded_zone, seeded_landing):
    zone = copy_zone(loaded_zone, tmp_path)
    return {**zone, "archive": zone["resources"]["landing_zone"].archive_root, "seeded": seeded_landing}


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _assert_held_as_incomplete(
    zone, result, table: str, name: str, delivered: bytes, before, gap: str
) -> str:
    """The run failed with the completeness rule's hold naming ``gap``, and nothing changed."""
    assert not result.success
    message = step_failure_message(result)
    assert (
        "Failure: Held by the completeness rule: nothing was loaded, archived or quarantined; the stored "
        "data is unchanged and the file(s) stay in the landing folder.\n"
    ) in message, message
    assert f"\n  - {gap}" in message, message
    assert f"{ACCEPT_TAG}=<reason>" in message
    if before is None:  # a first delivery
        assert f"raw.{table}" not in stored_tables(zone["database"]), "nothing was stored"
    else:
        assert fingerprint(zone["database"], table) == before, "the stored data is unchanged"
    assert (zone["landing"] / name).read_bytes() == delivered, "the file stays in landing as delivered"
    assert not list(zone["quarantine"].glob(f"*{name}*")), "a held file is not quarantined"
    archived = [version.path.read_bytes() for version in archived_versions(zone["archive"], name)]
    assert delivered not in archived, "nor archived"
    return message


def test_march_resent_with_its_first_25000_rows_is_held_naming_the_missing_days(zone):
    """13 % fewer rows passes the volume guard's 20 %; the days it lacks do not pass."""
    before = fingerprint(zone["database"], "flights")
    landed = zone["landing"] / FLIGHTS_MARCH
    first_25000 = b"".join(_lines(landed)[:25_001])
    landed.write_bytes(first_25000)

    held = load_flights(zone["resources"], MARCH, raise_on_error=False)

    gap = (
        "flights_2013-03.csv does not cover 2013-03: no flights from EWR, JFK, LGA on 2013-03-28…2013-03-31 "
        "(4 of 31 days); every day is expected"
    )
    message = _assert_held_as_incomplete(zone, held, "flights", FLIGHTS_MARCH, first_25000, before, gap)
    assert "volume guard" not in message, "25,000 of 28,834 rows is within the volume guard's 20 %"

    [failure] = held.get_step_failure_events()
    recorded = failure.step_failure_data.user_failure_data.metadata["month_coverage"].value
    assert recorded == [
        {
            "file": FLIGHTS_MARCH,
            "month": "2013-03",
            "unit": "day",
            "expected_per_value": 31,
            "max_missing_per_value": 0,
            "missing": {"EWR": 4, "JFK": 4, "LGA": 4},
            "complete": False,
            "held": [gap],
        }
    ]


def test_a_first_delivery_missing_an_origins_last_days_is_held_and_loads_when_accepted(zone):
    april = zone["landing"] / "flights_2013-04.csv"
    without_lga_late = b"".join(
        line for line in _lines(april) if not (b",LGA," in line and int(line.split(b",")[2]) >= 15)
    )
    april.write_bytes(without_lga_late)
    before = fingerprint(zone["database"], "flights")

    held = load_flights(zone["resources"], "2013-04-01", raise_on_error=False)

    _assert_held_as_incomplete(
        zone,
        held,
        "flights",
        "flights_2013-04.csv",
        without_lga_late,
        before,
        "flights_2013-04.csv does not cover 2013-04: no flights from LGA on 2013-04-15…2013-04-30 "
        "(16 of 30 days); every day is expected",
    )

    reason = "LGA closed from the 15th (runway works, ticket 5120)"
    accepted = materialize(
        [folder_asset("raw", "flights")],
        partition_key="2013-04-01",
        resources=zone["resources"],
        tags={ACCEPT_TAG: reason, "user": "ops@example.com"},
    )

    assert accepted.success
    rows = len(_lines(april)) - 1
    assert [row[1] for row in fingerprint(zone["database"], "flights")][-1] == rows
    metadata = materialization_metadata(accepted, "raw__flights")
    assert metadata["volume_change_accepted"]["reason"] == reason
    [coverage] = metadata["month_coverage"]
    assert coverage["missing"] == {"LGA": 16}
    assert coverage["complete"] is False


def test_december_weather_with_the_sources_own_30_hour_gap_loads_and_records_it(zone):
    result = materialize(
        [folder_asset("raw", "weather")], partition_key="2013-12-01", resources=zone["resources"]
    )

    assert result.success
    [coverage] = materialization_metadata(result, "raw__weather")["month_coverage"]
    assert coverage == {
        "file": "weather_2013-12.csv",
        "month": "2013-12",
        "unit": "hour",
        "expected_per_value": 744,
        "max_missing_per_value": 30,
        "missing": {"EWR": 30, "JFK": 29, "LGA": 29},
        "complete": True,
        "held": [],
    }


def test_weather_missing_more_hours_at_an_airport_than_allowed_is_held(zone):
    weather = zone["landing"] / "weather_2013-03.csv"
    # JFK from 00:00 on 10 March to 08:00 on 11 March: 32 hours (the clocks went forward at 02:00)
    gap = {f"2013-03-{day:02d}T{hour:02d}:00:00Z".encode() for day, hour in _utc_hours(date(2013, 3, 10), 32)}
    without_jfk = b"".join(
        line for line in _lines(weather) if not (line.startswith(b"JFK,") and line.rstrip()[-20:] in gap)
    )
    assert len(_lines(weather)) - len(_lines_of(without_jfk)) == 32
    weather.write_bytes(without_jfk)

    held = materialize(
        [folder_asset("raw", "weather")],
        partition_key=MARCH,
        resources=zone["resources"],
        raise_on_error=False,
    )

    _assert_held_as_incomplete(
        zone,
        held,
        "weather",
        "weather_2013-03.csv",
        without_jfk,
        None,
        "weather_2013-03.csv does not cover 2013-03 (America/New_York time): no weather observed at JFK "
        "at 2013-03-05 01:00, 2013-03-10 00:00…2013-03-11 08:00 (33 of 743 hours); no weather observed "
        "at LGA at 2013-03-05 01:00 (1 of 743 hours); at most 30 hour(s) per origin may be missing",
    )


def _utc_hours(day: date, hours: int) -> list[tuple[int, int]]:
    """(day of month, UTC hour) of ``hours`` hours from local midnight of ``day`` in New York."""
    start = datetime.combine(day, datetime.min.time(), ZoneInfo("America/New_York")).astimezone(UTC)
    return [((start + timedelta(hours=n)).day, (start + timedelta(hours=n)).hour) for n in range(hours)]


def _lines_of(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


@pytest.mark.parametrize(
    ("month", "table", "units", "first", "last"),
    [
        (date(2013, 2, 1), "flights", 28, "2013-02-01", "2013-02-28"),
        (date(2016, 2, 1), "flights", 29, "2016-02-01", "2016-02-29"),
        # the clocks go forward on 10 March, and back on 3 November
        (date(2013, 3, 1), "weather", 743, "2013-03-01T05:00:00Z", "2013-04-01T03:00:00Z"),
        (date(2013, 11, 1), "weather", 721, "2013-11-01T04:00:00Z", "2013-12-01T04:00:00Z"),
        (date(2013, 12, 1), "weather", 744, "2013-12-01T05:00:00Z", "2014-01-01T04:00:00Z"),
    ],
)
def test_a_month_has_its_local_calendars_days_and_hours(month, table, units, first, last):
    expected = MONTH_COVERAGE[table].units(month)
    assert (len(expected), expected[0], expected[-1]) == (units, first, last)


def test_missing_units_are_told_as_ranges_and_values_sharing_them_together():
    finding = CoverageFinding(
        "flights_2013-03.csv",
        date(2013, 3, 1),
        MONTH_COVERAGE["flights"],
        31,
        (
            Gap("EWR", ("2013-03-05",)),
            Gap("JFK", ("2013-03-05",)),
            Gap("LGA", ("2013-03-05", "2013-03-15", "2013-03-16", "2013-03-17")),
        ),
    )
    assert not finding.complete
    assert finding.describe() == (
        "flights_2013-03.csv does not cover 2013-03: no flights from EWR, JFK on 2013-03-05 (1 of 31 days); "
        "no flights from LGA on 2013-03-05, 2013-03-15…2013-03-17 (4 of 31 days); every day is expected"
    )


@pytest.mark.parametrize("table", ["flights", "weather"])
def test_every_month_of_the_2013_source_covers_its_month(seeded_landing, table):
    """The allowances hold the whole source: every real month loads without an override."""
    missing = {}
    with duckdb.connect() as conn:
        for month in range(1, 13):
            name, month_start = f"{table}_2013-{month:02d}.csv", date(2013, month, 1)
            assert (
                inspect_landed_file(seeded_landing / name, RAW_TABLES[table], month_start, conn=conn).problems
                == []
            )
            finding = check_coverage(conn, RAW_TABLES[table], MONTH_COVERAGE[table], name, month_start)
            assert finding.complete, finding.describe()
            missing[month] = sum(len(gap.missing) for gap in finding.gaps)
    expected = {"flights": [0] * 12, "weather": [6, 6, 2, 1, 0, 0, 4, 15, 1, 20, 22, 88]}[table]
    assert list(missing.values()) == expected, "26,280 hours less the source's 26,115 observations: 165"
