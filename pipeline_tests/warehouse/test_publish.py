"""Write–audit–publish (pipeline/warehouse/publish.py): a table's new version is built, checked and
committed in one transaction, or the previous version stays.

Here on a small declared table in a real DuckDB file: a passing audit publishes with the version's
fingerprint and what changed; a failing blocking audit rolls back and reports its result; a
candidate that breaks the contract is refused without a retry; the audits see the new version.
The forced interleavings of two real runs are in test_publish_interleaving.py.
"""

import dagster as dg
import pytest

from pipeline.warehouse import changes, versions
from pipeline.warehouse.connection import connect
from pipeline.warehouse.publish import Audit, candidate_from_query, publish
from pipeline.warehouse.resources import Warehouse
from pipeline.warehouse.tables import Table, at_least, column

SCORES = Table(
    "marts",
    "scores",
    "One row per player: points.",
    (
        column("player", "VARCHAR", "Player name.", unique=True),
        column("points", "BIGINT", "Points scored.", at_least(0)),
        column("share", "DOUBLE", "Share of all points."),
    ),
)
VERSION_ONE = "select * from (values ('ann', 3::bigint, 0.5::double), ('bob', 3::bigint, 0.5::double)) as t(player, points, share)"
VERSION_TWO = "select * from (values ('ann', 4::bigint, 0.5::double), ('cid', 4::bigint, 0.5::double)) as t(player, points, share)"


def _audit(passed: bool, blocking: bool = True, seen: list | None = None) -> Audit:
    spec = dg.AssetCheckSpec("points_add_up", asset=SCORES.asset_key, blocking=blocking)

    def evaluate(conn):
        if seen is not None:
            seen.append(conn.execute("select sum(points) from marts.scores").fetchone()[0])
        return dg.AssetCheckResult(check_name="points_add_up", passed=passed)

    return Audit(spec, evaluate)


def _stored(warehouse: Warehouse) -> list[tuple]:
    with connect(warehouse.database) as conn:
        return conn.execute("select * from marts.scores order by player").fetchall()


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    warehouse = Warehouse(path=str(tmp_path / "warehouse.duckdb"))
    first = publish(warehouse, SCORES, candidate_from_query(VERSION_ONE), [_audit(True)])
    assert first.published
    return warehouse


def test_first_version_is_published_with_its_fingerprint(warehouse):
    assert _stored(warehouse) == [("ann", 3, 0.5), ("bob", 3, 0.5)]
    with connect(warehouse.database) as conn:
        expected = versions.fingerprint(conn, "marts.scores")
    again = publish(warehouse, SCORES, candidate_from_query(VERSION_ONE), [_audit(True)])
    metadata = again.materialization.metadata
    assert metadata["version"] == expected
    assert metadata["dagster/row_count"] == 2
    assert (metadata["rows_added"], metadata["rows_removed"], metadata["rows_changed"]) == (0, 0, 0)


def test_audits_see_the_new_version_and_a_pass_publishes_it_with_what_changed(warehouse):
    seen = []
    publication = publish(warehouse, SCORES, candidate_from_query(VERSION_TWO), [_audit(True, seen=seen)])
    assert seen == [8]  # the audit read the candidate, not the stored 6 points
    assert _stored(warehouse) == [("ann", 4, 0.5), ("cid", 4, 0.5)]
    metadata = publication.materialization.metadata
    assert (metadata["rows_added"], metadata["rows_removed"], metadata["rows_changed"]) == (1, 1, 1)
    assert metadata["changed_columns"].value == {"points": 1}
    assert {(e["change"], e["player"]) for e in metadata["changed_examples"].value} == {
        ("added", "cid"),
        ("removed", "bob"),
        ("changed", "ann"),
    }
    [changed] = [e for e in metadata["changed_examples"].value if e["change"] == "changed"]
    assert changed["values"] == "points: 3 → 4"
    assert "1 row added, 1 removed, 1 changed (points)" in metadata["changes"].value


def test_a_failing_blocking_audit_rolls_back_and_reports_its_result(warehouse):
    publication = publish(warehouse, SCORES, candidate_from_query(VERSION_TWO), [_audit(False)])
    assert not publication.published
    assert [check.passed for check in publication.events()] == [False]
    assert _stored(warehouse) == [("ann", 3, 0.5), ("bob", 3, 0.5)]


def test_a_failing_audit_that_does_not_block_publishes(warehouse):
    publication = publish(
        warehouse, SCORES, candidate_from_query(VERSION_TWO), [_audit(False, blocking=False)]
    )
    assert publication.published
    assert [check.passed for check in publication.materialization.check_results] == [False]
    assert _stored(warehouse) == [("ann", 4, 0.5), ("cid", 4, 0.5)]


@pytest.mark.parametrize(
    ("candidate", "violation"),
    [
        (
            "select 'ann' as player, -1::bigint as points, 0.5::double as share",
            "column points: greater_than_or_equal_to(0)",
        ),
        ("select 'ann' as player, 1 as points, 0.5::double as share", "column points: type INTEGER"),
        ("select 'ann' as player, 1::bigint as points", "column share: missing"),
    ],
)
def test_a_candidate_that_breaks_the_contract_is_refused_without_retry(warehouse, candidate, violation):
    with pytest.raises(dg.Failure) as refused:
        publish(warehouse, SCORES, candidate_from_query(candidate), [_audit(True)])
    assert violation in refused.value.description
    assert refused.value.allow_retries is False
    assert _stored(warehouse) == [("ann", 3, 0.5), ("bob", 3, 0.5)]


def test_an_empty_candidate_is_refused(warehouse):
    with pytest.raises(dg.Failure, match="produced no rows"):
        publish(warehouse, SCORES, candidate_from_query(f"{VERSION_ONE} limit 0"), [_audit(True)])
    assert len(_stored(warehouse)) == 2


def test_doubles_that_differ_in_the_last_bit_are_not_changes(tmp_path):
    with connect(tmp_path / "w.duckdb") as conn:
        conn.execute("create table old as select 'ann' as player, 3::bigint as points, 0.1 + 0.2 as share")
        conn.execute("create table new as select 'ann' as player, 3::bigint as points, 0.3 as share")
        found = changes.what_changed(conn, SCORES, written="new", replaced="old")
    assert (found.rows_added, found.rows_removed, found.rows_changed) == (0, 0, 0)


def test_a_changed_row_keyed_by_a_timestamp_is_reported_as_json(tmp_path):
    monthly = Table(
        "marts",
        "monthly",
        "One row per month: flights.",
        (
            column("month", "TIMESTAMP", "First day of the month.", unique=True),
            column("flights", "BIGINT", "Flights."),
        ),
    )
    warehouse = Warehouse(path=str(tmp_path / "warehouse.duckdb"))
    version = "select timestamp '2013-03-01' as month, {}::bigint as flights"
    assert publish(warehouse, monthly, candidate_from_query(version.format(28834))).published
    second = publish(warehouse, monthly, candidate_from_query(version.format(25000)))
    [changed] = second.materialization.metadata["changed_examples"].value
    assert changed == {
        "change": "changed",
        "month": "2013-03-01 00:00:00",
        "columns": ["flights"],
        "values": "flights: 28834 → 25000",
    }
