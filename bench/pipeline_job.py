"""The jobs the benchmark runs, importable by step processes: every asset, or the monthly ones."""

import dagster as dg

from pipeline.definitions import defs

ALL_ASSETS_JOB = "bench_all_assets"
MONTHLY_ASSETS_JOB = "bench_monthly_assets"


def monthly_asset_keys() -> list[dg.AssetKey]:
    """The partitioned assets: what a backfill of the months rebuilds."""
    return [
        key
        for assets_def in defs.assets
        if isinstance(assets_def, dg.AssetsDefinition) and assets_def.partitions_def is not None
        for key in assets_def.keys
    ]


SELECTIONS = {
    ALL_ASSETS_JOB: dg.AssetSelection.all() - dg.AssetSelection.all_asset_checks(),
    MONTHLY_ASSETS_JOB: dg.AssetSelection.assets(*monthly_asset_keys())
    - dg.AssetSelection.all_asset_checks(),
}


def _resolve(name: str) -> dg.JobDefinition:
    job = dg.define_asset_job(name, selection=SELECTIONS[name])
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def(name)


def all_assets_job() -> dg.JobDefinition:
    """Every asset of the code location (no checks), with the code location's executor."""
    return _resolve(ALL_ASSETS_JOB)


def monthly_assets_job() -> dg.JobDefinition:
    """The partitioned assets (no checks), with the code location's executor."""
    return _resolve(MONTHLY_ASSETS_JOB)
