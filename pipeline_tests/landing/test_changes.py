"""Every load shows what it changed: a month replaced by a corrected file carries, in its raw
materialization, the rows added, removed and changed against the version it replaced (and how many
rows changed each column, with example keys), computed in the write before the old rows went."""

from pathlib import Path

import pytest

from pipeline.defs.raw.tables import FLIGHTS
from pipeline_tests.landing.test_guard import materialization_metadata
from pipeline_tests.support import copy_zone, landing_zone_under, load_flights

MARCH = "2013-03-01"
FLIGHTS_MARCH = "flights_2013-03.csv"
HEADER = list(FLIGHTS.csv_columns())


@pytest.fixture(scope="module")
def loaded_zone(tmp_path_factory, seeded_landing) -> Path:
    """Flights of March loaded once per module (``zone`` hands each test a copy)."""
    root = tmp_path_factory.mktemp("changes")
    resources = landing_zone_under(root, seeded_landing, "airports.csv", "airlines.csv", FLIGHTS_MARCH)[
        "resources"
    ]
    assert load_flights(resources, MARCH).success
    return root


@pytest.fixture
def zone(tmp_path, loaded_zone):
    return copy_zone(loaded_zone, tmp_path)


def _row(line: bytes) -> dict[str, str]:
    return dict(zip(HEADER, line.decode().rstrip("\n").split(","), strict=True))


def _line(row: dict[str, str]) -> bytes:
    return (",".join(row[name] for name in HEADER) + "\n").encode()


def test_the_first_load_of_a_month_says_every_row_is_new(tmp_path, seeded_landing):
    resources = landing_zone_under(tmp_path, seeded_landing, FLIGHTS_MARCH)["resources"]

    metadata = materialization_metadata(load_flights(resources, MARCH), "raw__flights")

    assert (metadata["rows_added"], metadata["rows_removed"], metadata["rows_changed"]) == (28_834, 0, 0)
    assert "28,834 rows added (nothing was stored before)" in metadata["changes"]


def test_a_correction_reports_the_flight_changed_the_flights_removed_and_the_flight_added(zone):
    landed = zone["landing"] / FLIGHTS_MARCH
    header, *lines = landed.read_bytes().splitlines(keepends=True)
    rows = [_row(line) for line in lines]

    # one flight arrives 15 minutes later than first reported (arr_time and arr_delay agree)
    changed = next(
        index
        for index, row in enumerate(rows)
        if row["arr_time"] != "NA" and 1000 <= int(row["arr_time"]) < 2200 and int(row["arr_time"]) % 100 < 40
    )
    before = rows[changed]
    rows[changed] = {
        **before,
        "arr_time": str(int(before["arr_time"]) + 15),
        "arr_delay": str(int(before["arr_delay"]) + 15),
    }
    # five UA flights from EWR on the 15th withdrawn (the month still has flights every day)
    removed = [
        index
        for index, row in enumerate(rows)
        if (row["carrier"], row["origin"], row["day"]) == ("UA", "EWR", "15")
    ][:5]
    removed_keys = [{name: rows[index][name] for name in ("carrier", "flight")} for index in removed]
    # and one flight added: a copy of the last one under a flight number nobody flies
    added = {**rows[-1], "flight": "9999"}
    corrected = [_line(row) for index, row in enumerate(rows) if index not in removed] + [_line(added)]
    landed.write_bytes(header + b"".join(corrected))

    result = load_flights(zone["resources"], MARCH)

    assert result.success
    metadata = materialization_metadata(result, "raw__flights")
    assert (metadata["rows_added"], metadata["rows_removed"], metadata["rows_changed"]) == (1, 5, 1)
    assert metadata["changed_columns"] == {"arr_time": 1, "arr_delay": 1}
    examples = {
        change: [example for example in metadata["changed_examples"] if example["change"] == change]
        for change in ("added", "removed", "changed")
    }
    [added_key] = examples["added"]
    assert (added_key["carrier"], added_key["flight"], added_key["origin"]) == (
        added["carrier"],
        9999,
        added["origin"],
    )
    assert sorted((key["carrier"], str(key["flight"])) for key in examples["removed"]) == sorted(
        (key["carrier"], key["flight"]) for key in removed_keys
    )
    assert {(key["origin"], key["day"]) for key in examples["removed"]} == {("EWR", 15)}
    [changed_row] = examples["changed"]
    assert changed_row["flight"] == int(before["flight"])
    assert changed_row["columns"] == ["arr_time", "arr_delay"]
    assert changed_row["values"] == (
        f"arr_time: {before['arr_time']} → {int(before['arr_time']) + 15}, "
        f"arr_delay: {before['arr_delay']} → {int(before['arr_delay']) + 15}"
    )
    markdown = metadata["changes"]
    assert markdown.startswith(
        "**raw/flights 2013-03 (flights_2013-03.csv)**: 1 row added, 5 removed, 1 changed "
        "(arr_time, arr_delay)."
    ), markdown
    assert "| removed | 5 | 2013 3 15 UA " in markdown
    assert "Rows changed per column: arr_time (1), arr_delay (1)." in markdown


def test_reloading_the_same_month_changes_nothing(zone):
    result = load_flights(zone["resources"], MARCH)

    metadata = materialization_metadata(result, "raw__flights")
    assert (metadata["rows_added"], metadata["rows_removed"], metadata["rows_changed"]) == (0, 0, 0)
    assert metadata["changed_columns"] == {}
    assert (
        metadata["changes"]
        == "**raw/flights 2013-03 (flights_2013-03.csv)**: 0 rows added, 0 removed, 0 changed."
    )
