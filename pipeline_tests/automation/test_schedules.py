"""Schedules: the monthly run asks for the month just closed; nightly maintenance waits for a warehouse."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from pipeline.definitions import defs
from pipeline.warehouse.resources import Warehouse

NEW_YORK = ZoneInfo("America/New_York")


def _tick(name: str, scheduled: datetime, **resources):
    context = dg.build_schedule_context(scheduled_execution_time=scheduled, resources=resources or None)
    return defs.resolve_schedule_def(name).evaluate_tick(context)


@pytest.mark.parametrize(
    ("scheduled", "closed_month"),
    [
        (datetime(2013, 2, 1, 6, tzinfo=timezone.utc), "2013-01-01"),
        (datetime(2013, 8, 1, 6, tzinfo=timezone.utc), "2013-07-01"),
        (datetime(2014, 1, 1, 6, tzinfo=timezone.utc), "2013-12-01"),
    ],
)
def test_monthly_schedule_requests_the_month_just_closed(scheduled, closed_month):
    [request] = _tick("monthly_refresh_schedule", scheduled).run_requests

    assert request.partition_key == closed_month
    assert request.tags["dagster/partition"] == closed_month
    assert request.run_key == closed_month  # a second tick for the same month launches nothing


def test_monthly_schedule_skips_before_any_month_has_closed():
    tick = _tick("monthly_refresh_schedule", datetime(2013, 1, 1, 6, tzinfo=timezone.utc))
    assert tick.run_requests == []
    assert tick.skip_message


def test_schedules_run_in_their_stated_time_zones():
    monthly = defs.resolve_schedule_def("monthly_refresh_schedule")
    nightly = defs.resolve_schedule_def("nightly_maintenance_schedule")
    assert (monthly.cron_schedule, monthly.execution_timezone) == ("0 6 1 * *", "UTC")
    assert (nightly.cron_schedule, nightly.execution_timezone) == ("30 3 * * *", "America/New_York")


def test_nightly_maintenance_skips_until_a_warehouse_exists(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    tick = _tick(
        "nightly_maintenance_schedule",
        datetime(2013, 3, 10, 3, 30, tzinfo=NEW_YORK),
        warehouse=Warehouse(path=str(database)),
    )

    assert tick.run_requests == []
    assert tick.skip_message == f"No warehouse at {database} yet; nothing to maintain."
    assert not database.exists()  # looking did not create one


def test_nightly_maintenance_requests_one_run_per_night(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(database)).close()
    scheduled = datetime(2013, 3, 10, 3, 30, tzinfo=NEW_YORK)  # the night clocks go forward

    [request] = _tick(
        "nightly_maintenance_schedule", scheduled, warehouse=Warehouse(path=str(database))
    ).run_requests

    assert request.run_key == scheduled.isoformat() == "2013-03-10T03:30:00-04:00"
