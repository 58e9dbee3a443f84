"""The code location: every asset, check, job, schedule, sensor and resource, assembled."""

import dagster as dg

from pipeline.assets import marts, raw, report, staging
from pipeline.io_manager import WarehouseIOManager
from pipeline.resources import LandingZone, ReportStore, Warehouse

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([raw, staging, marts, report]),
    resources={
        "io_manager": WarehouseIOManager(),
        "warehouse": Warehouse(),
        "landing_zone": LandingZone(),
        "report_store": ReportStore(),
    },
)
