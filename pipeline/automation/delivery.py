"""One run per delivery: the files ready in one evaluation, loaded and carried to the report.

A delivery's run selects the raw assets its files feed and everything downstream of them —
staging, marts, report and their checks — so it ends with the report refreshed, and declarative
automation has nothing left to do: ``any_deps_updated`` ignores an update made by a run that also
planned the asset, and the run's ``landing/carried`` tag keeps automation off what it updated
(pipeline/automation/conditions.py). A correction of one month re-runs that month's raw and staging partitions
and what depends on them, nothing else.

**Several months in one run.** In Dagster 1.13 a run targets one partition or one contiguous range
(the ``dagster/asset_partition_range_start``/``_end`` tags; ``RunRequest`` has no partition set,
``context.partition_keys`` is a range, and a single-run backfill policy splits a non-contiguous
target into one run per range — ``_build_run_requests_with_backfill_policy`` in
dagster/_core/definitions/automation_tick_evaluation_context.py; a ``RunRequest`` for an asset graph
subset goes to the backfill daemon, which launches per range and per layer). So a delivery runs
over the smallest range covering its months, and a month inside that range that was not delivered
rides along only if reloading it changes nothing: its landing file is ready and is exactly the
version the warehouse holds (a *rider*). The same holds when a dimension file arrives that a
partitioned asset places every month through (found in the asset graph: reached from the
dimension's raw asset through unpartitioned assets only), so the range covers every month that
asset holds. Only if some month in the range cannot ride (its file is gone, or changing) is the
delivery split: one run per contiguous range of months (tables with the same range share it;
dimension files ride in the first, except such a dimension file, which then runs alone so that
automation re-places the other months through it). The tick says why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import dagster as dg

from pipeline import constants
from pipeline.automation.conditions import CARRIED_TAG
from pipeline.automation.loaded import RANGE_END_TAG, RANGE_START_TAG
from pipeline.months import MonthKey
from pipeline.partitions import monthly_partitions

FILE_TAG = "landing/file"
RIDERS_TAG = "landing/riders"
DELIVERY_TAG = "landing/delivery"


@dataclass(frozen=True)
class LandingFile:
    """A complete landing file, its content identified."""

    name: str
    table: str
    partition_key: str | None  # None for a dimension file
    sha256: str

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey([constants.RAW_SCHEMA, self.table])

    @property
    def identity(self) -> str:
        return f"{self.name}:{self.sha256}"


@dataclass(frozen=True)
class Delivery:
    files: tuple[LandingFile, ...]
    asset_keys: frozenset[dg.AssetKey]
    partition_range: tuple[str, str] | None = None
    riders: tuple[LandingFile, ...] = ()
    carried: bool = True  # the run refreshes everything downstream; automation leaves it alone

    @property
    def run_key(self) -> str:
        """The delivery's identity: the same files with the same content never launch twice."""
        identities = "\n".join(sorted(file.identity for file in self.files))
        return "delivery:" + hashlib.sha256(identities.encode()).hexdigest()

    def describe(self) -> str:
        months = (
            "" if self.partition_range is None else " for " + "…".join(dict.fromkeys(self.partition_range))
        )
        riders = (
            f" (reloading unchanged {', '.join(f.name for f in self.riders)} to keep one run)"
            if self.riders
            else ""
        )
        return f"{', '.join(f.name for f in self.files)}{months}{riders}"

    def run_request(self) -> dg.RunRequest:
        tags = {FILE_TAG: ", ".join(file.name for file in self.files), DELIVERY_TAG: self.run_key[9:21]}
        if self.carried:
            tags[CARRIED_TAG] = "true"
        if self.riders:
            tags[RIDERS_TAG] = ", ".join(file.name for file in self.riders)
        partition_key = None
        if self.partition_range is not None:
            start, end = self.partition_range
            if start == end:
                partition_key = start
            else:
                tags |= {RANGE_START_TAG: start, RANGE_END_TAG: end}
        return dg.RunRequest(
            run_key=self.run_key,
            partition_key=partition_key,
            asset_selection=sorted(self.asset_keys, key=lambda key: key.to_user_string()),
            tags=tags,
        )


def _months_between(first: str, last: str) -> list[str]:
    return monthly_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(first, last))


def _contiguous_ranges(months: Iterable[str]) -> list[tuple[str, str]]:
    order = {key: i for i, key in enumerate(monthly_partitions.get_partition_keys())}
    ranges: list[list[str]] = []
    for month in sorted(months, key=order.__getitem__):
        if ranges and order[month] == order[ranges[-1][1]] + 1:
            ranges[-1][1] = month
        else:
            ranges.append([month, month])
    return [(first, last) for first, last in ranges]


def _downstream(
    asset_graph, keys: Iterable[dg.AssetKey], with_partitioned: bool, materialized: Collection[dg.AssetKey]
) -> frozenset[dg.AssetKey]:
    """``keys`` and everything downstream of them that can be built: an asset whose other upstream
    has never been materialized (the first dimension files, before any month) waits, as a mart
    waits for its inputs under automation. Without partitioned assets for a run with no months."""
    candidates = dg.AssetSelection.assets(*keys).downstream().resolve(asset_graph)
    selected: set[dg.AssetKey] = set(keys)
    for key in asset_graph.toposorted_asset_keys:
        node = asset_graph.get(key)
        if key not in candidates or key in selected or (node.is_partitioned and not with_partitioned):
            continue
        if all(parent in selected or parent in materialized for parent in node.parent_keys):
            selected.add(key)
    return frozenset(selected)


def placed_through(asset_graph, files: Iterable[LandingFile]) -> frozenset[dg.AssetKey]:
    """The partitioned assets that place every month through one of these dimension files: reached
    from its raw asset through unpartitioned assets only (a staged month joins the dimension)."""
    found: set[dg.AssetKey] = set()
    frontier = [file.asset_key for file in files if file.partition_key is None]
    seen = set(frontier)
    while frontier:
        for child in asset_graph.get(frontier.pop()).child_keys:
            if child in seen:
                continue
            seen.add(child)
            (found.add if asset_graph.get(child).is_partitioned else frontier.append)(child)
    return frozenset(found)


def plan(
    pending: Collection[LandingFile],
    unchanged: Mapping[tuple[str, str], LandingFile],
    staged: Mapping[dg.AssetKey, Collection[str]],
    asset_graph,
    materialized: Collection[dg.AssetKey],
) -> tuple[list[Delivery], list[str]]:
    """The runs that load ``pending`` (one whenever possible), and notes on why it is not one.

    ``unchanged``: (table, month) → a ready landing file whose content the warehouse already holds
    and that no run is loading (a possible rider). ``staged``: the months each asset the dimension
    files are placed through (``placed_through``) holds. ``materialized``: the assets materialized
    at least once.
    """
    monthly: dict[str, dict[str, LandingFile]] = {}
    dimensions = [file for file in pending if file.partition_key is None]
    for file in pending:
        if file.partition_key is not None:
            monthly.setdefault(file.table, {})[file.partition_key] = file
    restage = {month for months in staged.values() for month in months}
    months = {month for files in monthly.values() for month in files} | restage
    raw_keys = [file.asset_key for file in pending]
    if not months:
        return [Delivery(tuple(pending), _downstream(asset_graph, raw_keys, False, materialized))], []

    ordered = sorted(months)
    covered = _months_between(ordered[0], ordered[-1])
    riders: list[LandingFile] = []
    missing: list[str] = []
    for table, files in monthly.items():
        for month in covered:
            if month in files:
                continue
            if (table, month) in unchanged:
                riders.append(unchanged[(table, month)])
            else:
                missing.append(f"{table} {MonthKey.from_partition_key(month)}")
    for placed, months in staged.items():
        table = placed.path[-1]
        if table not in monthly:
            # Re-placed through the new dimension: only over the months it holds.
            missing += [
                f"{table} {MonthKey.from_partition_key(month)} (none loaded)"
                for month in covered
                if month not in months
            ]
    if not missing:
        keys = _downstream(asset_graph, raw_keys, True, materialized)
        return [Delivery(tuple(pending), keys, (covered[0], covered[-1]), tuple(riders))], []

    notes = [
        f"One run would have to reload {', '.join(missing)}, whose landing files are not the loaded "
        "version or not there: the delivery is split, one run per contiguous range of months."
    ]
    by_range: dict[tuple[str, str], list[LandingFile]] = {}
    for _table, files in sorted(monthly.items()):
        for first, last in _contiguous_ranges(files):
            by_range.setdefault((first, last), []).extend(files[m] for m in _months_between(first, last))
    deliveries = []
    if restage:
        # Alone, without the assets placed through them: a run that updates the dimensions without
        # planning those is what makes automation re-place every staged month through them.
        keys = _downstream(asset_graph, {file.asset_key for file in dimensions}, False, materialized)
        deliveries.append(Delivery(tuple(dimensions), keys, carried=False))
        new = ", ".join(file.table for file in dimensions if placed_through(asset_graph, [file]))
        notes += [
            f"{placed.to_user_string()} of every month follows the new {new} through automation."
            for placed in sorted(staged, key=lambda key: key.to_user_string())
        ]
    for index, (months_range, files) in enumerate(sorted(by_range.items())):
        chosen = [*dimensions, *files] if index == 0 and not restage else files  # dimensions ride first
        keys = _downstream(asset_graph, {file.asset_key for file in chosen}, True, materialized)
        deliveries.append(Delivery(tuple(chosen), keys, months_range))
    return deliveries, notes
