"""The volume guard: a delivery that would replace good data with much less of it is held — the run
fails with the numbers, nothing is replaced, archived or quarantined, the file stays in landing —
until an operator accepts it on purpose, which the materialization's metadata records."""

from pathlib import Path

import duckdb
import pytest

from pipeline.landing.archive import archived_versions
from pipeline.landing.guard import ACCEPT_TAG
from pipeline_tests.support import (
    copy_zone,
    folder_asset,
    landing_zone_under,
    load_flights,
    materialize,
    step_failure_message,
)

JANUARY = "2013-01-01"
FLIGHTS_JANUARY = "flights_2013-01.csv"
HELD = "Held by the volume guard: nothing was loaded, archived or quarantined"


def fingerprint(database, table: str) -> list[tuple]:
    """Per month (or for the whole dimension): rows, and a hash of each column's content."""
    month = "make_date(year, month, 1)" if table in ("flights", "weather") else "null"
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(
            f"select {month} as m, count(*), sum(hash(columns(* exclude (_loaded_at)))) "
            f"from raw.{table} group by m order by m"
        ).fetchall()


def materialization_metadata(result, node: str) -> dict:
    [materialization] = result.asset_materializations_for_node(node)
    return {key: value.value for key, value in materialization.metadata.items()}


@pytest.fixture(scope="module")
def loaded_zone(tmp_path_factory, seeded_landing) -> Path:
    """Airports, airlines and three months of flights loaded from a landing folder, once per module.
    Do not modify: ``zone`` hands each test a copy."""
    root = tmp_path_factory.mktemp("guard")
    resources = landing_zone_under(
        root,
        seeded_landing,
        "airports.csv",
        "airlines.csv",
        *(f"flights_2013-0{month}.csv" for month in (1, 2, 3)),
    )["resources"]
    assert materialize(
        [folder_asset("raw", "airports"), folder_asset("raw", "airlines")], resources=resources
    ).success
    for month in ("2013-01-01", "2013-02-01", "2013-03-01"):
        assert load_flights(resources, month).success
    return root


@pytest.fixture
def zone(tmp_path, loaded_zone, seeded_landing):
    """A copy of the loaded landing zone, archive and warehouse."""
    zone = copy_zone(loaded_zone, tmp_path)
    return {
        **zone,
        "archive": zone["resources"]["landing_zone"].archive_root,
        "seeded": seeded_landing,
    }


def _assert_held(zone, result, table: str, name: str, delivered: bytes, before, phrases: list[str]):
    assert not result.success
    message = step_failure_message(result)
    for phrase in [HELD, *phrases]:
        assert phrase in message, message
    assert f"{ACCEPT_TAG}=<reason>" in message
    assert fingerprint(zone["database"], table) == before, "the stored data is unchanged"
    assert (zone["landing"] / name).read_bytes() == delivered, "the file stays in landing as delivered"
    assert not list(zone["quarantine"].glob(f"*{name}*")), "a held file is not quarantined"
    assert [v.path.read_bytes() for v in archived_versions(zone["archive"], name)] == [
        (zone["seeded"] / name).read_bytes()
    ], "nor archived"


def test_a_collapsed_month_is_held_and_an_accepted_one_loads_with_who_and_why(zone):
    before = fingerprint(zone["database"], "flights")
    assert [row[1] for row in before] == [27_004, 24_951, 28_834]
    landed = zone["landing"] / FLIGHTS_JANUARY
    hundred_rows = b"".join(landed.read_bytes().splitlines(keepends=True)[:101])
    landed.write_bytes(hundred_rows)

    held = load_flights(zone["resources"], JANUARY, raise_on_error=False)

    _assert_held(
        zone,
        held,
        "flights",
        FLIGHTS_JANUARY,
        hundred_rows,
        before,
        [
            "flights_2013-01.csv has 100 rows; the month it replaces has 27,004 (0.4% of it: a "
            "delivery may drop at most 20%, max_drop_share)",
            "flights_2013-01.csv has 100 rows, 0.4% of the median month (26,892 rows over 2 other months",
        ],
    )

    reason = "upstream withdrew January for re-issue (ticket 4711)"
    accepted = materialize(
        [folder_asset("raw", "flights")],
        partition_key=JANUARY,
        resources=zone["resources"],
        tags={ACCEPT_TAG: reason, "user": "ops@example.com"},
    )

    assert accepted.success
    after = fingerprint(zone["database"], "flights")
    assert [row[1] for row in after] == [100, 24_951, 28_834]
    assert after[1:] == before[1:], "the other months are untouched"
    metadata = materialization_metadata(accepted, "raw__flights")
    assert metadata["volume_change_accepted"] == {
        "reason": reason,
        "via": f"run tag {ACCEPT_TAG}",
        "run_id": accepted.run_id,
        "user": "ops@example.com",
    }
    [guarded] = metadata["volume_guard"]
    assert (guarded["file"], guarded["rows"], guarded["replaced_rows"]) == (FLIGHTS_JANUARY, 100, 27_004)
    assert len(guarded["held"]) == 2
    assert len(archived_versions(zone["archive"], FLIGHTS_JANUARY)) == 2


def test_a_first_delivery_far_below_the_other_months_is_held_and_can_be_accepted_by_config(zone):
    april = zone["landing"] / "flights_2013-04.csv"
    short = b"".join((zone["seeded"] / "flights_2013-04.csv").read_bytes().splitlines(keepends=True)[:501])
    april.write_bytes(short)
    before = fingerprint(zone["database"], "flights")

    held = load_flights(zone["resources"], "2013-04-01", raise_on_error=False)

    assert not held.success
    assert (
        "flights_2013-04.csv has 500 rows, 1.9% of the median month (27,004 rows over 3 other months; at "
        "least 50% expected, min_share_of_typical_month)" in step_failure_message(held)
    )
    assert fingerprint(zone["database"], "flights") == before
    assert april.read_bytes() == short

    reason = "April starts mid-month this year"
    accepted = materialize(
        [folder_asset("raw", "flights")],
        partition_key="2013-04-01",
        resources=zone["resources"],
        run_config={"ops": {"raw__flights": {"config": {"accept_volume_change": reason}}}},
    )

    assert accepted.success
    assert [row[1] for row in fingerprint(zone["database"], "flights")] == [27_004, 24_951, 28_834, 500]
    recorded = materialization_metadata(accepted, "raw__flights")["volume_change_accepted"]
    assert recorded == {"reason": reason, "via": "run config accept_volume_change", "run_id": accepted.run_id}


def test_a_small_correction_passes_the_guard_unremarked(zone):
    landed = zone["landing"] / FLIGHTS_JANUARY
    landed.write_bytes(b"".join(landed.read_bytes().splitlines(keepends=True)[:-100]))

    result = load_flights(zone["resources"], JANUARY)

    assert result.success
    metadata = materialization_metadata(result, "raw__flights")
    assert "volume_change_accepted" not in metadata
    assert metadata["volume_guard"][0]["held"] == []
    assert fingerprint(zone["database"], "flights")[0][1] == 26_904


def test_airports_cut_off_at_line_700_are_held_with_the_airports_flights_would_lose(zone):
    airports = zone["landing"] / "airports.csv"
    truncated = b"".join(airports.read_bytes().splitlines(keepends=True)[:700])
    airports.write_bytes(truncated)
    before = fingerprint(zone["database"], "airports")
    assert before[0][1] == 1_458

    held = materialize([folder_asset("raw", "airports")], resources=zone["resources"], raise_on_error=False)

    _assert_held(
        zone,
        held,
        "airports",
        "airports.csv",
        truncated,
        before,
        [
            "airports.csv has 699 rows; the airports it replaces has 1,458 (47.9% of it",
            "value(s) that stored flights.origin / flights.dest use and the stored airports has: ",
        ],
    )
    with duckdb.connect(str(zone["database"]), read_only=True) as conn:
        [(lost,)] = conn.execute(
            "select count(*) from (select origin as faa from raw.flights union select dest from raw.flights) "
            "where faa in (select faa from read_csv($old)) and faa not in (select faa from read_csv($new))",
            {"old": str(zone["seeded"] / "airports.csv"), "new": str(airports)},
        ).fetchall()
    assert lost > 0
    assert f"airports.csv lacks {lost} faa value(s)" in step_failure_message(held)

    accepted = materialize(
        [folder_asset("raw", "airports")],
        resources=zone["resources"],
        tags={ACCEPT_TAG: "new airports feed, cut on purpose"},
    )

    assert accepted.success
    assert fingerprint(zone["database"], "airports")[0][1] == 699
    metadata = materialization_metadata(accepted, "raw__airports")
    assert metadata["volume_change_accepted"]["reason"] == "new airports feed, cut on purpose"
    assert metadata["volume_guard"][0]["orphaned_keys"] == lost


@pytest.mark.parametrize(
    ("asset", "table", "dropped_line_start", "held_phrase"),
    [
        pytest.param(
            folder_asset("raw", "airports"),
            "airports",
            b"IAH,",
            "airports.csv lacks 1 faa value(s) that stored flights.origin / flights.dest use and the stored "
            "airports has: IAH",
            id="an airport",
        ),
        pytest.param(
            folder_asset("raw", "airlines"),
            "airlines",
            b"UA,",
            "airlines.csv lacks 1 carrier value(s) that stored flights.carrier use and the stored airlines has: UA",
            id="a carrier",
        ),
    ],
)
def test_a_dimension_key_that_flights_use_cannot_disappear_unremarked(
    zone, asset, table, dropped_line_start, held_phrase
):
    delivered = zone["landing"] / f"{table}.csv"
    without_key = b"".join(
        line for line in delivered.read_bytes().splitlines(keepends=True) if dropped_line_start not in line
    )
    delivered.write_bytes(without_key)
    before = fingerprint(zone["database"], table)

    held = materialize([asset], resources=zone["resources"], raise_on_error=False)

    _assert_held(zone, held, table, f"{table}.csv", without_key, before, [held_phrase])
