"""Landing file names of the declared raw tables: which table and month a name feeds, or exactly why
it feeds none."""

import pytest

from pipeline.defs.raw.landed import LANDED_TABLES
from pipeline.landing.landed_tables import MonthlyFile, describe_delivery, monthly_file_name
from pipeline.landing.names import FileKind, classify_landing_file
from pipeline.months import MonthKey


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("flights_2013-01.csv", MonthlyFile("flights", MonthKey(2013, 1))),
        ("weather_2013-12.csv", MonthlyFile("weather", MonthKey(2013, 12))),
        ("flights_2013-01.csv.part", None),
        ("flights_2013-1.csv", None),
        ("planes_2013-01.csv", None),
        ("notes.txt", None),
    ],
)
def test_monthly_file_names_parse(name, expected):
    assert LANDED_TABLES.monthly_file(name) == expected


def test_monthly_file_maps_to_its_partition_key():
    assert MonthlyFile("flights", MonthKey(2013, 7)).partition_key == "2013-07-01"
    assert monthly_file_name("weather", "2013-07-01") == "weather_2013-07.csv"


PARTITION_KEYS = {f"2013-{month:02d}-01" for month in range(1, 13)}


@pytest.mark.parametrize(
    ("name", "kind", "table", "partition_key"),
    [
        ("flights_2013-05.csv.gz", FileKind.MONTHLY, "flights", "2013-05-01"),
        ("weather_2013-12.csv.gz", FileKind.MONTHLY, "weather", "2013-12-01"),
        ("airports.csv.gz", FileKind.DIMENSION, "airports", None),
        ("flights_2014-01.csv.gz", FileKind.OUT_OF_RANGE, "flights", "2014-01-01"),
        ("flights_2013-05.csv.gz.part", FileKind.PARTIAL, None, None),
    ],
)
def test_a_gzip_compressed_delivery_is_the_same_table_and_month(name, kind, table, partition_key):
    found = classify_landing_file(name, PARTITION_KEYS, LANDED_TABLES)
    assert (found.kind, found.table, found.partition_key) == (kind, table, partition_key)
    if kind is not FileKind.PARTIAL:
        assert found.compressed
        assert found.delivery == name.removesuffix(".gz")


def test_a_plain_delivery_is_not_compressed():
    found = classify_landing_file("flights_2013-05.csv", PARTITION_KEYS, LANDED_TABLES)
    assert (found.compressed, found.delivery) == (False, "flights_2013-05.csv")


@pytest.mark.parametrize(
    ("name", "reason", "suggestion"),
    [
        (
            "flights_2013-O6.csv",
            "the month '2013-O6' has the letter(s) 'O' where digits belong",
            "flights_2013-06.csv",
        ),
        (
            "weather_2013-1l.csv.gz",
            "the month '2013-1l' has the letter(s) 'l' where digits belong",
            "weather_2013-11.csv.gz",
        ),
        (
            "flights_2013-06.csv ",
            "the name 'flights_2013-06.csv ' has leading or trailing whitespace",
            "flights_2013-06.csv",
        ),
        (" airports.csv", "the name ' airports.csv' has leading or trailing whitespace", "airports.csv"),
        (
            "flights_2013-06 (1).csv",
            "the name 'flights_2013-06 (1).csv' looks like a copy ('(1)'",
            "flights_2013-06.csv",
        ),
        ("planes (2).csv.gz", "looks like a copy ('(2)'", "planes.csv.gz"),
        ("flights_2013-06 - Copy.csv", "looks like a copy ('- Copy'", "flights_2013-06.csv"),
        ("flights_2013-06.txt", "unknown extension '.txt'", "flights_2013-06.csv"),
        ("flights_2013-06.csv.bak", "unknown extension '.csv.bak'", "flights_2013-06.csv"),
        ("flights_2013-06.csv.zip", "unknown extension '.csv.zip'", "flights_2013-06.csv"),
        ("flights_2013-06", "the name has no extension", "flights_2013-06.csv"),
        ("flights_2013-06.CSV", "the extension '.CSV' must be lower case", "flights_2013-06.csv"),
        ("Flights_2013-03.csv", "the table 'Flights' must be lower case", "flights_2013-03.csv"),
        ("planes_2013-01.csv", "planes is delivered whole, not by month", "planes.csv"),
        ("flights_2013-3.csv", "the month '2013-3' is not YYYY-MM", None),
        ("routes.csv", "unknown table 'routes' (known: flights, weather, airlines, airports, planes)", None),
        ("flights 2013-06.csv", "the name 'flights 2013-06.csv' has whitespace in it", None),
        ("notes.txt", "not a landing file name", None),
    ],
)
def test_an_unrecognised_name_gets_a_precise_reason(name, reason, suggestion):
    found = classify_landing_file(name, PARTITION_KEYS, LANDED_TABLES)
    assert (found.kind, found.table, found.partition_key) == (FileKind.UNEXPECTED, None, None)
    assert reason in found.reason, found.reason
    assert found.suggestion == suggestion
    if suggestion:
        assert f"did you mean {suggestion}?" in found.reason
    assert found.reason.endswith(f"(expected {LANDED_TABLES.expected_names})")


@pytest.mark.parametrize(
    ("name", "reason", "suggestion"),
    [
        (
            "flights_2013-０６.csv",
            "the month '2013-０６' has the look-alike digit(s) '０' (FULLWIDTH DIGIT ZERO), '６' "
            "(FULLWIDTH DIGIT SIX) where ASCII digits belong",
            "flights_2013-06.csv",
        ),
        (
            "weather_2013-٠٦.csv.gz",
            "has the look-alike digit(s) '٠' (ARABIC-INDIC DIGIT ZERO), '٦' (ARABIC-INDIC DIGIT SIX)",
            "weather_2013-06.csv.gz",
        ),
        (
            "flights_2013-１O.csv",
            "has the letter(s) 'O' and the look-alike digit(s) '１' (FULLWIDTH DIGIT ONE)",
            "flights_2013-10.csv",
        ),
    ],
)
def test_a_month_in_look_alike_digits_is_unrecognised_with_the_ascii_name(name, reason, suggestion):
    found = classify_landing_file(name, PARTITION_KEYS, LANDED_TABLES)
    assert (found.kind, found.table, found.partition_key) == (FileKind.UNEXPECTED, None, None)
    assert reason in found.reason, found.reason
    assert found.suggestion == suggestion
    assert LANDED_TABLES.monthly_file(name.removesuffix(".gz")) is None  # ASCII digits only


@pytest.mark.parametrize(
    ("name", "held"),
    [
        ("flights_2013-03 (part 2).csv", "flights_2013-03.csv"),
        ("flights_2013-03 (1).csv", "flights_2013-03.csv"),
        ("flights_2013-03-part2.csv", "flights_2013-03.csv"),
        ("flights_2013-03_2.csv.gz", "flights_2013-03.csv"),
        ("flights_2013-03.csv.bak", "flights_2013-03.csv"),
        ("Flights_2013-03.csv", "flights_2013-03.csv"),
        ("flights 2013-03.csv", "flights_2013-03.csv"),
        ("flights_2013-O3.csv", "flights_2013-03.csv"),
        ("flights_2013-０３.csv", "flights_2013-03.csv"),
        ("weather_2013-12 part 2.csv", "weather_2013-12.csv"),
        ("planes (2).csv", "planes.csv"),
        ("notes.txt", None),
        ("flights_2013-3.csv", None),
        ("routes.csv", None),
    ],
)
def test_a_name_carrying_a_known_delivery_holds_it(name, held):
    found = classify_landing_file(name, PARTITION_KEYS, LANDED_TABLES)
    assert found.kind is FileKind.UNEXPECTED
    assert found.look_alike_of == held
    if held:
        what = describe_delivery(held)
        assert f"possible second part of {what}: {held} (or .csv.gz) is held, not loaded" in found.reason
    else:
        assert "possible second part" not in found.reason


def test_a_split_part_names_the_month_it_carries():
    found = classify_landing_file("flights_2013-03 (part 2).csv", PARTITION_KEYS, LANDED_TABLES)
    assert found.reason.startswith(
        "the name 'flights_2013-03 (part 2).csv' carries flights 2013-03 but is not flights_2013-03.csv"
    )
