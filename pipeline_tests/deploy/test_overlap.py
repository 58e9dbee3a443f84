"""The stress tests' own parts (pipeline_tests/overlap.py), fast: each round's months and launch
offsets are fixed, and the comparison of a table with what it should hold passes on the same rows
in another order with doubles a few ulps apart, and fails on a changed, missing or extra row.
"""

from __future__ import annotations

import duckdb
import pytest

from pipeline_tests import overlap

ROWS = [("AA", "2013-01-01", 100, 0.1 + 0.2), ("UA", "2013-01-01", 200, 12.5), ("AA", "2013-02-01", 90, None)]


def test_every_round_redelivers_six_distinct_months_launched_0_to_10_s_apart_in_a_fixed_order():
    for number in range(1, 6):
        months, offsets = overlap.round_months(number), overlap.stagger(number)
        assert len(set(months)) == 6 and set(months) <= set(overlap.MONTHS)
        assert sorted(offsets) == [0, 2, 4, 6, 8, 10]
        assert overlap.stagger(number) == offsets  # the same on every machine
    assert overlap.round_months(1) != overlap.round_months(2)
    assert len({tuple(overlap.stagger(n)) for n in range(1, 6)}) > 1


def _rows(rows) -> overlap.Rows:
    with duckdb.connect() as conn:
        conn.execute("create table t (carrier varchar, month date, flights bigint, mean_delay double)")
        conn.executemany("insert into t values (?, ?, ?, ?)", rows)
        types = {"carrier": "VARCHAR", "month": "TIMESTAMP", "flights": "BIGINT", "mean_delay": "DOUBLE"}
        return overlap._rows(conn, "select * from t", list(types), types)


def test_the_same_rows_in_another_order_with_doubles_a_few_ulps_apart_are_equal():
    reordered = [ROWS[2], (ROWS[1][0], ROWS[1][1], 200, 12.5 * (1 + 1e-14)), (*ROWS[0][:3], 0.3)]
    assert overlap.rows_differences(_rows(ROWS), _rows(reordered)) is None


@pytest.mark.parametrize(
    "changed",
    [
        [ROWS[0], ROWS[1], ("AA", "2013-02-01", 89, None)],  # a count
        [ROWS[0], ROWS[1], ("AA", "2013-02-01", 90, 0.0)],  # a missing value became a number
        [ROWS[0], (ROWS[1][0], ROWS[1][1], 200, 12.5001), ROWS[2]],  # a double beyond the tolerance
        ROWS[:2],  # a row missing
        [*ROWS, ("B6", "2013-01-01", 1, 1.0)],  # a row too many
    ],
)
def test_a_changed_missing_or_extra_row_is_a_difference(changed):
    assert overlap.rows_differences(_rows(ROWS), _rows(changed)) is not None
