"""The code location as the UI shows it: it loads, and every asset explains itself."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipeline.definitions import defs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSET_SPECS = [spec for assets_def in defs.assets for spec in assets_def.specs]
GROUP_BY_PREFIX = {
    "raw": "raw",
    "staging": "staging",
    "marts": "marts",
    "reports": "reports",
    "landing": "landing",
}


@pytest.mark.integration  # runs the dagster CLI in a process
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
        "raw/flights",
        "raw/weather",
        "staging/flights",
        "staging/weather",
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


TABLE_ASSETS = [spec for spec in ASSET_SPECS if spec.key.path[0] in ("raw", "staging", "marts")]
# Columns that count rows or name a constant read no column: they have no column lineage.
NO_COLUMN_SOURCE = {
    ("marts", "carrier_monthly_performance", "flights"),
    ("marts", "route_performance", "flights"),
    ("marts", "weather_impact", "flights"),
    ("marts", "weather_impact", "factor"),
    ("marts", "fleet_performance", "flights"),
    ("marts", "weather_delay_model", "factor"),
    ("marts", "weather_delay_model", "unit"),
    ("marts", "weather_delay_model", "flights"),
}


@pytest.mark.parametrize("spec", TABLE_ASSETS, ids=lambda spec: spec.key.to_user_string())
def test_every_column_is_described_before_the_first_materialization(spec):
    """The Columns table of every raw, staging and mart asset: names, types and a one-line description."""
    columns = spec.metadata["dagster/column_schema"].columns
    assert columns
    for column in columns:
        assert column.type, column.name
        assert column.description and "\n" not in column.description, (
            f"{spec.key.to_user_string()}.{column.name}"
        )


@pytest.mark.parametrize("spec", TABLE_ASSETS, ids=lambda spec: spec.key.to_user_string())
def test_every_table_asset_links_to_its_sql_file(spec):
    references = spec.metadata["dagster/code_references"].code_references
    files = [Path(reference.file_path) for reference in references]
    assert any(path.suffix == ".sql" and path.is_file() for path in files), files
    assert any(path.suffix == ".py" and path.is_file() for path in files)


def test_staging_and_mart_materializations_carry_lineage_for_every_column(built_warehouse):
    """The UI's column lineage view: every staging and SQL mart column names its upstream columns."""
    lineage_by_asset = {
        event.asset_key: event.materialization.metadata["dagster/column_lineage"].value
        for event in built_warehouse["result"].get_asset_materialization_events()
        if "dagster/column_lineage" in event.materialization.metadata
    }
    table_keys = {spec.key for spec in TABLE_ASSETS if spec.key.path[0] in ("staging", "marts")}
    assert set(lineage_by_asset) == table_keys
    for key, lineage in lineage_by_asset.items():
        spec = next(spec for spec in TABLE_ASSETS if spec.key == key)
        for column in spec.metadata["dagster/column_schema"].columns:
            deps = lineage.deps_by_column.get(column.name, [])
            if (*key.path, column.name) in NO_COLUMN_SOURCE:
                assert not deps
            else:
                assert deps, f"{key.to_user_string()}.{column.name} has no column lineage"
    mean_delay = lineage_by_asset[dg.AssetKey(["marts", "carrier_monthly_performance"])].deps_by_column[
        "mean_dep_delay_minutes"
    ]
    assert [(dep.asset_key, dep.column_name) for dep in mean_delay] == [
        (dg.AssetKey(["staging", "flights"]), "dep_delay_minutes")
    ]
    staged_delay = lineage_by_asset[dg.AssetKey(["staging", "flights"])].deps_by_column["dep_delay_minutes"]
    assert [(dep.asset_key, dep.column_name) for dep in staged_delay] == [
        (dg.AssetKey(["raw", "flights"]), "dep_delay")
    ]


@pytest.mark.parametrize("spec", ASSET_SPECS, ids=lambda spec: spec.key.to_user_string())
def test_every_asset_has_an_owner_and_catalog_tags(spec):
    assert spec.owners == ["team:data-platform"]
    assert spec.tags["layer"] == spec.group_name
    assert spec.tags["tier"] in {"landed", "conformed", "published"}
