"""The code location: every asset, check, job, schedule, sensor and resource, assembled."""

import dagster as dg

from pipeline import checks
from pipeline.assets import marts, raw, report, staging
from pipeline.executor import in_process_by_default_executor
from pipeline.io_manager import WarehouseIOManager
from pipeline.jobs import (
    full_refresh_job,
    load_landed_files_job,
    monthly_refresh_job,
    warehouse_maintenance_job,
)
from pipeline.maintenance import INTERMEDIATE_IO_MANAGER
from pipeline.resources import AlertNotifier, LandingZone, ReportStore, Warehouse
from pipeline.schedules import monthly_refresh_schedule, nightly_maintenance_schedule
from pipeline.sensors import automation_sensor, landing_sensor, run_failure_alert

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([raw, staging, marts, report]),
    asset_checks=checks.asset_checks,
    resources={
        "io_manager": WarehouseIOManager(),
        "warehouse": Warehouse(),
        "landing_zone": LandingZone(),
        "report_store": ReportStore(),
        "notifier": AlertNotifier(),
        # Values handed between ops (maintenance, graph-backed assets): pickles under $DAGSTER_HOME.
        INTERMEDIATE_IO_MANAGER: dg.FilesystemIOManager(),
    },
    jobs=[monthly_refresh_job, full_refresh_job, load_landed_files_job, warehouse_maintenance_job],
    schedules=[monthly_refresh_schedule, nightly_maintenance_schedule],
    sensors=[landing_sensor, automation_sensor, run_failure_alert],
    executor=in_process_by_default_executor,
)
