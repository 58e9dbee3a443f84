"""Jobs: one month end to end, a full refresh, loading landed files, and warehouse maintenance.

Asset jobs select by group, so an asset added to a layer joins its jobs without an edit here. The
marts and the report are unpartitioned and read every month: in a run for one month they rebuild
over all months stored so far, which is what "the month's data has arrived" should update.

Retries are set on the steps whose failures can be transient (pipeline/automation/conditions.py), not on the
jobs: a job-wide policy would also retry asset checks and raw loads whose failures are
deterministic (a malformed file, a failed check), delaying the alert by minutes.
"""

import dagster as dg

from pipeline.automation.maintenance import warehouse_maintenance
from pipeline.partitions import monthly_partitions

END_TO_END = dg.AssetSelection.groups("raw", "staging", "marts", "reports")

monthly_refresh_job = dg.define_asset_job(
    name="monthly_refresh",
    selection=END_TO_END,
    description=(
        "One month end to end: that month's landed monthly files through staging, then the "
        "dimensions, marts and report rebuilt over every stored month. Launch it with a partition."
    ),
)

full_refresh_job = dg.define_asset_job(
    name="full_refresh",
    selection=END_TO_END,
    description=(
        "Everything rebuilt from the landing zone: all twelve months in one run (the partitioned "
        "assets load the whole range at once), then the dimensions, marts and report."
    ),
    run_tags={
        "dagster/asset_partition_range_start": monthly_partitions.get_first_partition_key(),
        "dagster/asset_partition_range_end": monthly_partitions.get_last_partition_key(),
    },
)

# What the landing sensor launches, once per delivery, with an asset selection of the raw assets
# the delivered files feed and everything downstream of them (pipeline/automation/delivery.py),
# over the delivered months: the whole delivery reaches the report in this one run.
load_landed_files_job = dg.define_asset_job(
    name="load_landed_files",
    selection=END_TO_END,
    description=(
        "Loads a delivery of landed files and carries it through staging, the marts and the report "
        "in the same run; the landing sensor launches it with exactly the raw assets and months "
        "that arrived and what depends on them."
    ),
)

warehouse_maintenance_job = warehouse_maintenance.to_job(
    name="warehouse_maintenance",
    # Four short sequential steps: one process saves re-importing the code location per step.
    executor_def=dg.in_process_executor,
    description=(
        "Checkpoints the warehouse, takes a consistent backup (keeping the last N), and exports "
        "the marts from that backup to Parquet."
    ),
)
