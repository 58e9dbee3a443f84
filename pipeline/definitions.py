"""The code location: every asset, check, job, schedule, sensor and resource, assembled.

The table folders (``pipeline/defs/<layer>/<table>/defs.yaml``, the WarehouseTable component) are
loaded by Dagster's component machinery; the assets built in Python (time zone offsets, the
weather delay model, the report), the checks that need code, and the jobs, schedules, sensors and
resources are listed here.
"""

import os
import warnings

import dagster as dg

from pipeline import constants
from pipeline.automation.alerts import AlertNotifier, run_failure_alert
from pipeline.automation.executor import in_process_by_default_executor
from pipeline.automation.jobs import (
    full_refresh_job,
    load_landed_files_job,
    monthly_refresh_job,
    warehouse_maintenance_job,
)
from pipeline.automation.schedules import monthly_refresh_schedule, nightly_maintenance_schedule
from pipeline.automation.sensors import automation_sensor, build_landing_sensor
from pipeline.automation.zone_observations import landing_folder_asset
from pipeline.components.table_folders import load_table_folders
from pipeline.defs.marts import checks as marts_checks
from pipeline.defs.marts import weather_delay_model
from pipeline.defs.raw import checks as raw_checks
from pipeline.defs.raw.landed import LANDED_TABLES
from pipeline.defs.reports import assets as reports_assets
from pipeline.defs.reports import checks as reports_checks
from pipeline.defs.reports.store import ReportStore
from pipeline.defs.staging import assets as staging_assets
from pipeline.defs.staging import checks as staging_checks
from pipeline.landing.resources import LandingZone
from pipeline.warehouse.io_manager import WarehouseIOManager
from pipeline.warehouse.outputs import INTERMEDIATE_IO_MANAGER
from pipeline.warehouse.resources import Warehouse


def _with_code_references(assets: list) -> list:
    """Each asset links to its Python definition (and its SQL file, set where it is defined).

    With ``CODE_REFERENCES_GIT_URL`` set (e.g. https://github.com/org/repo, read when the code
    location loads) the UI opens them on the git host, at ``CODE_REFERENCES_GIT_BRANCH`` (main).
    """
    with warnings.catch_warnings():
        # Code references are beta in Dagster 1.13; linking assets to their code is worth it.
        warnings.simplefilter("ignore", dg.BetaWarning)
        assets = dg.with_source_code_references(assets)
        git_url = os.environ.get("CODE_REFERENCES_GIT_URL")
        if not git_url:
            return assets
        return dg.link_code_references_to_git(
            assets,
            git_url=git_url,
            git_branch=os.environ.get("CODE_REFERENCES_GIT_BRANCH", "main"),
            file_path_mapping=dg.AnchorBasedFilePathMapping(
                local_file_anchor=constants.PROJECT_ROOT, file_anchor_path_in_repository=""
            ),
        )


# What the UI's catalog filters on: each layer's contract with its readers, and who to ask.
TIER_BY_LAYER = {
    "landing": "landed",
    "raw": "landed",
    "staging": "conformed",
    "marts": "published",
    "reports": "published",
}
OWNER = "team:data-platform"


def _catalog_attributes(spec: dg.AssetSpec) -> dg.AssetSpec:
    # A table folder's declaration names its owner; the rest are the platform team's.
    return spec.merge_attributes(
        owners=[] if spec.owners else [OWNER],
        tags={"layer": spec.group_name, "tier": TIER_BY_LAYER[spec.group_name]},
    )


def _code_location(table_folders: dg.Definitions) -> dg.Definitions:
    """The table folders' assets and checks with the Python ones, jobs, schedules, sensors and resources."""
    return dg.Definitions(
        assets=dg.map_asset_specs(
            _catalog_attributes,
            [
                *_with_code_references(
                    [
                        *table_folders.assets,
                        *dg.load_assets_from_modules([staging_assets, weather_delay_model, reports_assets]),
                    ]
                ),
                landing_folder_asset,
            ],
        ),
        asset_checks=[
            *table_folders.asset_checks,
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
        sensors=[build_landing_sensor(LANDED_TABLES), automation_sensor, run_failure_alert],
        executor=in_process_by_default_executor,
    )


defs = _code_location(load_table_folders())
