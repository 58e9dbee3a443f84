"""LandedTables: the landing names of whatever tables are declared, derived from the declarations
alone (here made-up ones: nothing about the project's own tables is built in)."""

import pytest

from pipeline.defs.raw.landed import LANDED_TABLES
from pipeline.defs.raw.tables import RAW_TABLES
from pipeline.landing.landed_tables import LandedTables, describe_delivery, monthly_file_name
from pipeline.landing.names import FileKind, classify_landing_file
from pipeline.months import MonthKey
from pipeline.warehouse.tables import MONTHLY, WHOLE, Table, column

READINGS = Table(
    "raw", "readings", "Sensor readings.", (column("value", "DOUBLE", "A value."),), lands=MONTHLY
)
MAKERS = Table("raw", "manufacturers", "Makers.", (column("name", "VARCHAR", "A name."),), lands=WHOLE)
NOT_LANDED = Table("staging", "makers_clean", "Not a landed file.", (column("name", "VARCHAR", "A name."),))
LANDED = LandedTables.from_declarations([READINGS, MAKERS, NOT_LANDED])
KEYS = {"2013-01-01", "2013-02-01"}


def test_the_declarations_say_which_tables_land_and_how():
    assert (list(LANDED.monthly), list(LANDED.whole), LANDED.names) == (
        ["readings"],
        ["manufacturers"],
        ("readings", "manufacturers"),
    )
    assert LANDED.whole_files == {"manufacturers.csv": "manufacturers"}
    assert [key.to_user_string() for key in LANDED.asset_keys] == ["raw/readings", "raw/manufacturers"]
    assert LANDED.expected_names == (
        "readings_YYYY-MM.csv, manufacturers.csv, each optionally gzip-compressed as <name>.csv.gz"
    )


def test_the_project_lands_what_its_raw_declarations_say():
    # In the declarations' order, the monthly tables first (a stable sort keeps the rest in place).
    monthly_first = sorted(RAW_TABLES, key=lambda name: RAW_TABLES[name].lands != MONTHLY)
    assert LANDED_TABLES.names == tuple(monthly_first)
    assert all(LANDED_TABLES.declaration(name) is RAW_TABLES[name] for name in RAW_TABLES)


@pytest.mark.parametrize(
    ("name", "kind", "table", "partition_key"),
    [
        ("readings_2013-02.csv", FileKind.MONTHLY, "readings", "2013-02-01"),
        ("readings_2013-02.csv.gz", FileKind.MONTHLY, "readings", "2013-02-01"),
        ("readings_2014-02.csv", FileKind.OUT_OF_RANGE, "readings", "2014-02-01"),
        ("manufacturers.csv", FileKind.DIMENSION, "manufacturers", None),
        ("makers_clean.csv", FileKind.UNEXPECTED, None, None),
        ("manufacturers_2013-01.csv", FileKind.UNEXPECTED, None, None),
    ],
)
def test_names_are_classified_by_the_declared_tables(name, kind, table, partition_key):
    found = classify_landing_file(name, KEYS, LANDED)
    assert (found.kind, found.table, found.partition_key) == (kind, table, partition_key)


@pytest.mark.parametrize(
    ("name", "reason", "held"),
    [
        ("manufacturers_2013-01.csv", "manufacturers is delivered whole, not by month", "manufacturers.csv"),
        ("Readings_2013-01.csv", "the table 'Readings' must be lower case", "readings_2013-01.csv"),
        (
            "readings_2013-01 (part 2).csv",
            "carries readings 2013-01 but is not readings_2013-01.csv",
            "readings_2013-01.csv",
        ),
        ("gauges.csv", "unknown table 'gauges' (known: readings, manufacturers)", None),
    ],
)
def test_reasons_name_the_declared_tables(name, reason, held):
    found = classify_landing_file(name, KEYS, LANDED)
    assert reason in found.reason
    assert found.reason.endswith(f"(expected {LANDED.expected_names})")
    assert found.look_alike_of == held


def test_a_file_name_leads_to_its_declaration_and_month():
    assert LANDED.table_of_file("readings_2013-02.csv") == (READINGS, MonthKey(2013, 2))
    assert LANDED.table_of_file("manufacturers.csv") == (MAKERS, None)
    assert LANDED.table_of_file("flights_2013-02.csv") is None
    assert monthly_file_name("readings", "2013-02-01") == "readings_2013-02.csv"
    assert describe_delivery("readings_2013-02.csv") == "readings 2013-02"
