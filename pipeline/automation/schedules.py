"""Schedules: the month just closed, end to end, and nightly warehouse maintenance."""

import dagster as dg

from pipeline.automation.jobs import monthly_refresh_job, warehouse_maintenance_job
from pipeline.warehouse.resources import Warehouse

monthly_refresh_schedule = dg.build_schedule_from_partitioned_job(
    monthly_refresh_job,
    name="monthly_refresh_schedule",
    # The zone is the partitions' own, set explicitly to UTC in pipeline/partitions.py (Dagster
    # refuses a separate execution_timezone for a time-partitioned job): 06:00 UTC on the 1st.
    day_of_month=1,
    hour_of_day=6,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=(
        "On the 1st at 06:00 UTC, runs the month just closed end to end. Stopped by default: the "
        "2013 partitions are closed, so it would only re-run December 2013; turn it on where the "
        "partitions run up to the present. The landing sensor loads files as they arrive anyway."
    ),
)


@dg.schedule(
    name="nightly_maintenance_schedule",
    job=warehouse_maintenance_job,
    # 03:30 exists exactly once every night in New York: daylight-saving changes happen at 02:00.
    cron_schedule="30 3 * * *",
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Nightly at 03:30 New York time: checkpoint, backup (last 7 kept) and Parquet exports. "
        "Running by default so that no deployment goes without backups; skips until a warehouse "
        "exists."
    ),
)
def nightly_maintenance_schedule(
    context: dg.ScheduleEvaluationContext, warehouse: Warehouse
) -> dg.RunRequest | dg.SkipReason:
    # Only the file's existence is checked: opening it would wait on a run that holds the lock.
    if not warehouse.database.is_file():
        return dg.SkipReason(f"No warehouse at {warehouse.database} yet; nothing to maintain.")
    return dg.RunRequest(run_key=context.scheduled_execution_time.isoformat())
