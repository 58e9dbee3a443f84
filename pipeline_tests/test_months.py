"""MonthKey: one month as a label (file names, messages), a partition key and a first day."""

from datetime import date

import pytest

from pipeline.months import MonthKey


@pytest.mark.parametrize(
    ("partition_key", "label", "first_day"),
    [
        ("2013-03-01", "2013-03", date(2013, 3, 1)),
        ("2013-12-01", "2013-12", date(2013, 12, 1)),
        ("0999-01-01", "0999-01", date(999, 1, 1)),
    ],
)
def test_a_partition_key_is_a_month(partition_key, label, first_day):
    month = MonthKey.from_partition_key(partition_key)
    assert (month.label, month.partition_key, month.first_day, str(month)) == (
        label,
        partition_key,
        first_day,
        label,
    )
    assert MonthKey.from_label(label) == month == MonthKey.from_date(first_day)


@pytest.mark.parametrize("key", ["2013-03-02", "2013-03", "2013-13-01", "not a date"])
def test_a_partition_key_that_is_no_first_day_of_a_month_is_refused(key):
    with pytest.raises(ValueError):
        MonthKey.from_partition_key(key)


@pytest.mark.parametrize("label", ["2013-3", "13-03", "2013-０３", "2013_03", "2013-03-01"])
def test_a_label_is_four_and_two_ascii_digits(label):
    with pytest.raises(ValueError, match="YYYY-MM"):
        MonthKey.from_label(label)


def test_months_order_by_time():
    months = [MonthKey(2014, 1), MonthKey(2013, 12), MonthKey(2013, 2)]
    assert [month.label for month in sorted(months)] == ["2013-02", "2013-12", "2014-01"]


def test_a_month_past_december_is_outside_every_partition_not_misnamed():
    month = MonthKey.from_label("2013-13")
    assert month.partition_key == "2013-13-01"
