"""The code location: every asset, check, job, schedule, sensor and resource, assembled."""

import dagster as dg

from pipeline.automation.alerts import AlertNotifier, run_failure_alert
from pipeline.automation.executor import in_process_by_default_executor
from pipeline.automation.jobs import (
    full_refresh_job,
    load_landed_files_job,
    monthly_refresh_job,
    warehouse_maintenance_job,
)
from pipeline.automation.maintenance import INTERMEDIATE_IO_MANAGER
from pipeline.automation.schedules import monthly_refresh_schedule, nightly_maintenance_schedule
from pipeline.automation.sensors import automation_sensor, landing_sensor
from pipeline.defs.marts import assets as marts_assets
from pipeline.defs.marts import checks as marts_checks
from pipeline.defs.raw import assets as raw_assets
from pipeline.defs.raw import checks as raw_checks
from pipeline.defs.reports import assets as reports_assets
from pipeline.defs.reports import checks as reports_checks
from pipeline.defs.staging import assets as staging_assets
from pipeline.defs.staging import checks as staging_checks
from pipeline.defs.reports.store import ReportStore
from pipeline.landing.resources import LandingZone
from pipeline.warehouse.io_manager import WarehouseIOManager
from pipeline.warehouse.resources import Warehouse

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([raw_assets, staging_assets, marts_assets, reports_assets]),
    asset_checks=[
        *raw_checks.asset_checks,
        *staging_checks.asset_checks,
        *marts_checks.asset_checks,
        *reports_checks.asset_checks,
    ],
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
