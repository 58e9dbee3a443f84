"""What the warehouse holds and what is about to change it, as the Dagster instance records it.

- **Loaded**: a raw asset's materialization records the files it loaded (``source_files``: file
  name and SHA-256, pipeline/defs/raw/assets.py). The latest materialization of a month — or of a
  dimension table — tells which version of its file the warehouse holds, whichever job, backfill
  or launch from the UI loaded it.
- **In progress**: runs queued or running, and backfills not finished, that will (re)load raw
  assets. A month they cover is left to them rather than requested a second time.

Only the instance's storage is read, never the warehouse: its lock may be held by a run for
minutes, longer than a sensor evaluation may take.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus  # not exported

from pipeline.partitions import monthly_partitions

IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
SENSOR_TAG = "dagster/sensor_name"


def latest_storage_ids(instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey]) -> dict[str, int]:
    """Per asset, the storage id of its latest materialization (any partition); 0 if none."""
    ids = {key.to_user_string(): 0 for key in keys}
    for record in instance.get_asset_records(list(keys)):
        latest = record.asset_entry.last_materialization_record
        if latest is not None:
            ids[record.asset_entry.asset_key.to_user_string()] = latest.storage_id
    return ids


def loaded_sha256(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None, name: str) -> str:
    """The SHA-256 of the version of ``name`` the latest materialization of ``key`` (``partition``)
    loaded; "" if there is none, or it does not name the file."""
    records_filter = dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None)
    records = instance.fetch_materializations(records_filter, limit=1).records
    if not records or records[0].asset_materialization is None:
        return ""
    source_files = records[0].asset_materialization.metadata.get("source_files")
    for entry in getattr(source_files, "data", None) or []:
        if isinstance(entry, dict) and entry.get("file") == name:
            return str(entry.get("sha256") or "")
    return ""


def _partitions_of(run: dg.DagsterRun) -> set[str] | None:
    """The months a run covers; None when it names none (treated as every month)."""
    if PARTITION_TAG in run.tags:
        return {run.tags[PARTITION_TAG]}
    if RANGE_START_TAG in run.tags and RANGE_END_TAG in run.tags:
        return set(
            monthly_partitions.get_partition_keys_in_range(
                dg.PartitionKeyRange(run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG])
            )
        )
    return None


@dataclass
class RunsInProgress:
    """Raw asset partitions that queued or running runs (or unfinished backfills) will load."""

    # asset key -> partition (None: the unpartitioned asset, or every month) -> run or backfill id
    targets: dict[str, dict[str | None, str]] = field(default_factory=dict)
    landing_runs: list[str] = field(default_factory=list)  # runs the landing sensor launched

    def _add(self, key: dg.AssetKey, partitions: Iterable[str | None], by: str) -> None:
        for partition in partitions:
            self.targets.setdefault(key.to_user_string(), {}).setdefault(partition, by)

    def loading(self, key: dg.AssetKey, partition: str | None) -> str | None:
        """The id of a run or backfill that will load ``key`` (``partition``), if any."""
        targets = self.targets.get(key.to_user_string(), {})
        return targets.get(partition) or targets.get(None)


def in_progress(
    instance: dg.DagsterInstance,
    raw_keys: Sequence[dg.AssetKey],
    sensor_name: str,
    job_assets: Callable[[str], AbstractSet[dg.AssetKey] | None],
) -> RunsInProgress:
    """What queued and running runs, and unfinished backfills, are going to load into ``raw_keys``.

    A run of a whole job loads the job's assets (``job_assets``; None for a job this code location
    does not know: every raw asset). A run without partition tags counts as loading every month:
    waiting for it is safe, loading beside it is not.
    """
    found = RunsInProgress()
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        if run.tags.get(SENSOR_TAG) == sensor_name:
            found.landing_runs.append(run.run_id)
        selected = run.asset_selection if run.asset_selection is not None else job_assets(run.job_name)
        partitions = _partitions_of(run)
        for key in raw_keys if selected is None else [key for key in raw_keys if key in selected]:
            found._add(key, [None] if partitions is None else partitions, run.run_id)
    backfills = instance.get_backfills(
        filters=BulkActionsFilter(statuses=[BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING])
    )
    for backfill in backfills:
        selected = backfill.asset_selection
        for key in raw_keys if not selected else [key for key in raw_keys if key in selected]:
            found._add(key, [None], backfill.backfill_id)
    return found


def materialized_assets(instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey]) -> set[dg.AssetKey]:
    """Which of ``keys`` have been materialized at least once (any partition)."""
    return {
        record.asset_entry.asset_key
        for record in instance.get_asset_records(list(keys))
        if record.asset_entry.last_materialization_record is not None
    }


def staged_months(instance: dg.DagsterInstance, key: dg.AssetKey) -> set[str]:
    """The months of ``key`` that have been materialized."""
    return set(instance.get_materialized_partitions(key))
