"""The code location as the UI shows it: it loads, and every asset explains itself."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipeline.definitions import defs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSET_SPECS = [spec for assets_def in defs.assets for spec in assets_def.specs]
GROUP_BY_PREFIX = {"raw": "raw", "staging": "staging", "marts": "marts", "reports": "reports"}


def test_dagster_definitions_validate_passes(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "pipeline.definitions"],
        cwd=PROJECT_ROOT,
        env={"PATH": str(Path(sys.executable).parent), "DAGSTER_HOME": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Validation successful" in completed.stderr + completed.stdout


@pytest.mark.parametrize("spec", ASSET_SPECS, ids=lambda spec: spec.key.to_user_string())
def test_every_asset_is_described_grouped_and_kinded(spec):
    prefix = spec.key.path[0]
    assert spec.description and "\n" not in spec.description.strip()
    assert spec.group_name == GROUP_BY_PREFIX[prefix]
    assert spec.kinds, "every asset declares the technologies it uses"


def test_partitioned_assets_declare_their_partition_column():
    partitioned = [spec for spec in ASSET_SPECS if spec.partitions_def is not None]
    assert {spec.key.to_user_string() for spec in partitioned} == {
        "raw/flights", "raw/weather", "staging/flights", "staging/weather",
    }
    for spec in partitioned:
        assert spec.metadata["partition_expr"]


def test_asset_graph_runs_raw_to_report():
    graph = defs.resolve_asset_graph()
    report = dg.AssetKey(["reports", "carrier_on_time"])
    upstream = graph.get(report).parent_keys
    assert dg.AssetKey(["marts", "carrier_monthly_performance"]) in upstream
    ancestors = set()
    frontier = [report]
    while frontier:
        key = frontier.pop()
        for parent in graph.get(key).parent_keys:
            if parent not in ancestors:
                ancestors.add(parent)
                frontier.append(parent)
    assert {dg.AssetKey(["raw", table]) for table in ("flights", "airlines")} <= ancestors
