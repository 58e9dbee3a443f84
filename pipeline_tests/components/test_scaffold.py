"""Adding a table is writing its folder: the steps of docs/architecture.md's "Add a table", for real.

In a copy of the project, ``dg scaffold defs pipeline.components.WarehouseTable`` creates
``raw/manufacturers`` and ``staging/manufacturers``; the test fills in their declarations and the
staging SQL (three files) and lands ``manufacturers.csv``. A fresh process then loads the copy's
Definitions, which hold both assets with their checks, column descriptions, deps and lineage, and
materializes them into a temporary warehouse, whose rows are read back.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.constants import PROJECT_ROOT

pytestmark = pytest.mark.integration

DG = Path(sys.executable).with_name("dg")

RAW_DECLARATION = """\
type: pipeline.components.WarehouseTable
attributes:
  description: "Landed manufacturers file: each plane manufacturer's name and country."
  owner: team:data-platform
  lands: whole
  columns:
    - name: manufacturer
      type: VARCHAR
      description: Manufacturer as the planes file spells it.
      key: true
    - name: country
      type: VARCHAR
      description: Country of the manufacturer's head office.
      rules: [matches: "^[A-Z][A-Za-z ]+$"]
"""

STAGING_DECLARATION = """\
type: pipeline.components.WarehouseTable
attributes:
  description: One row per manufacturer.
  owner: team:data-platform
  joined_by: the fleet mart
  columns:
    - name: manufacturer
      same_as: raw.manufacturers.manufacturer
      description: Manufacturer, upper case.
      key: true
    - name: country
      same_as: raw.manufacturers.country
      description: Country of the head office.
"""

STAGING_SQL = """\
-- One row per manufacturer, upper case.
select
    upper(trim(manufacturer)) as manufacturer,
    trim(country) as country
from raw.manufacturers
"""

LANDED_CSV = "manufacturer,country\nEMBRAER,Brazil\nboeing,United States\nAIRBUS,France\n"

# Run in the copy: load its Definitions, describe the new assets, materialize them, read the rows.
LOAD_AND_RUN = """
import json, sys
from pathlib import Path
import dagster as dg
import duckdb
import pipeline
from pipeline.definitions import defs
from pipeline_tests.support import make_resources

root = Path(sys.argv[1])
graph = defs.resolve_asset_graph()
described = {}
for layer in ("raw", "staging"):
    key = dg.AssetKey([layer, "manufacturers"])
    spec = next(spec for spec in defs.resolve_all_asset_specs() if spec.key == key)
    described[layer] = {
        "group": spec.group_name,
        "deps": sorted(dep.asset_key.to_user_string() for dep in spec.deps),
        "columns": {c.name: c.description for c in spec.metadata["dagster/column_schema"].columns},
        "checks": sorted(check.name for check in graph.get_check_keys_for_assets([key])),
        "code": sorted(Path(ref.file_path).name for ref in spec.metadata["dagster/code_references"].code_references),
    }
keys = [dg.AssetKey(["raw", "manufacturers"]), dg.AssetKey(["staging", "manufacturers"])]
job = dg.Definitions(
    assets=defs.assets,
    asset_checks=defs.asset_checks,
    resources=make_resources(root, root / "landing"),
).resolve_implicit_global_asset_job_def()
result = job.execute_in_process(
    asset_selection=keys, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
)
lineage = next(
    event.materialization.metadata["dagster/column_lineage"].value
    for event in result.get_asset_materialization_events()
    if event.asset_key == keys[1]
)
with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
    rows = conn.execute("select manufacturer, country from staging.manufacturers order by 1").fetchall()
print(json.dumps({
    "package": pipeline.__file__,
    "success": result.success,
    "described": described,
    "checks_passed": {
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}": evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
    },
    "lineage": {name: [dep.asset_key.to_user_string() + "." + dep.column_name for dep in deps]
                for name, deps in lineage.deps_by_column.items()},
    "rows": rows,
}))
"""


def _project_copy(target: Path) -> Path:
    """The project's tracked files (as in a fresh clone, edits included) under ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    for name in filter(None, listed):
        source = PROJECT_ROOT / name
        if name.startswith("data/") or not source.is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(source.read_bytes())
    return target


def _scaffold(project: Path, path: str) -> Path:
    subprocess.run(
        [str(DG), "scaffold", "defs", "pipeline.components.WarehouseTable", path],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return project / "pipeline" / "defs" / path


def test_a_new_dimension_is_its_folders_and_a_landed_file(tmp_path):
    project = _project_copy(tmp_path / "project")
    raw_folder = _scaffold(project, "raw/manufacturers")
    staging_folder = _scaffold(project, "staging/manufacturers")
    assert (raw_folder / "defs.yaml").is_file()
    assert (staging_folder / "manufacturers.sql").is_file()

    written = {
        raw_folder / "defs.yaml": RAW_DECLARATION,
        staging_folder / "defs.yaml": STAGING_DECLARATION,
        staging_folder / "manufacturers.sql": STAGING_SQL,
    }
    for path, text in written.items():
        path.write_text(text)
    run_root = tmp_path / "run"
    (run_root / "landing").mkdir(parents=True)
    (run_root / "landing" / "manufacturers.csv").write_text(LANDED_CSV)

    completed = subprocess.run(
        [sys.executable, "-c", LOAD_AND_RUN, str(run_root)],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project), "DAGSTER_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    found = json.loads(completed.stdout.splitlines()[-1])

    assert found["package"] == str(project / "pipeline" / "__init__.py")
    raw, staging = found["described"]["raw"], found["described"]["staging"]
    assert raw["group"] == "raw" and staging["group"] == "staging"
    assert raw["deps"] == [] and staging["deps"] == ["raw/manufacturers"]
    assert raw["columns"]["country"] == "Country of the manufacturer's head office."
    assert list(raw["columns"]) == [
        "manufacturer",
        "country",
        "_source_file",
        "_source_version",
        "_loaded_at",
    ]
    assert staging["columns"] == {
        "manufacturer": "Manufacturer, upper case.",
        "country": "Country of the head office.",
    }
    assert raw["checks"] == [
        "key_values_filled",
        "manufacturer_unique",
        "required_columns_present",
        "row_count_matches_landing_file",
    ]
    assert staging["checks"] == ["manufacturer_unique"]
    assert "manufacturers.sql" in staging["code"] and "defs.yaml" in staging["code"]

    assert found["success"]
    assert found["checks_passed"] == {
        "raw/manufacturers:key_values_filled": True,
        "raw/manufacturers:manufacturer_unique": True,
        "raw/manufacturers:required_columns_present": True,
        "raw/manufacturers:row_count_matches_landing_file": True,
        "staging/manufacturers:manufacturer_unique": True,
    }
    assert found["lineage"] == {
        "manufacturer": ["raw/manufacturers.manufacturer"],
        "country": ["raw/manufacturers.country"],
    }
    assert found["rows"] == [["AIRBUS", "France"], ["BOEING", "United States"], ["EMBRAER", "Brazil"]]
