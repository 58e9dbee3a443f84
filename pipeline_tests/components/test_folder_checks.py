"""A table folder's ``checks/<name>.sql``: a check per file, described and graded by its leading
comment, passing on good data and failing on crafted bad data with the offending rows."""

import dagster as dg
import pytest

from pipeline.components.warehouse_table import table_folder_defs
from pipeline.defs.declarations import read_declaration
from pipeline_tests.support import make_resources, materialize

DECLARATION = """\
type: pipeline.components.WarehouseTable
attributes:
  description: "Landed widgets file."
  owner: team:data-platform
  lands: whole
  columns:
    - name: widget
      type: VARCHAR
      description: Widget code.
      key: true
    - name: size
      type: INTEGER
      description: Size in millimetres.
"""
CHECKS = {
    "size_positive": "-- WARN: every widget has a positive size.\n"
    "select widget, size from raw.widgets where size <= 0 order by widget\n",
    "no_test_widgets": "-- ERROR, blocking: no widget code starts with TEST.\n"
    "select widget from raw.widgets where widget like 'TEST%'\n",
}


@pytest.fixture
def widgets(tmp_path):
    folder = tmp_path / "defs" / "raw" / "widgets"
    (folder / "checks").mkdir(parents=True)
    (folder / "defs.yaml").write_text(DECLARATION)
    for name, sql in CHECKS.items():
        (folder / "checks" / f"{name}.sql").write_text(sql)
    return table_folder_defs(read_declaration(folder), folder)


def _evaluations(widgets, tmp_path, landed: str) -> dict[str, dg.AssetCheckEvaluation]:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "widgets.csv").write_text(landed)
    [asset] = widgets.assets
    named = [
        check for check in widgets.asset_checks if {spec.name for spec in check.check_specs} <= set(CHECKS)
    ]
    result = materialize([asset, *named], resources=make_resources(tmp_path, landing), raise_on_error=False)
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def test_each_file_is_a_check_described_and_blocking_by_its_comment(widgets):
    specs = {spec.name: spec for check in widgets.asset_checks for spec in check.check_specs}
    assert specs["size_positive"].description == "WARN: every widget has a positive size."
    assert not specs["size_positive"].blocking
    assert specs["no_test_widgets"].blocking
    assert specs["no_test_widgets"].asset_key == dg.AssetKey(["raw", "widgets"])


def test_good_data_passes(widgets, tmp_path):
    evaluations = _evaluations(widgets, tmp_path, "widget,size\nA1,3\nB2,5\n")
    assert {name: evaluation.passed for name, evaluation in evaluations.items()} == {
        "size_positive": True,
        "no_test_widgets": True,
    }
    assert evaluations["size_positive"].metadata["failing_rows"].value == 0


def test_bad_data_fails_with_the_rows_that_break_it(widgets, tmp_path):
    evaluations = _evaluations(widgets, tmp_path, "widget,size\nA1,0\nB2,5\nTEST3,-2\n")
    size = evaluations["size_positive"]
    assert not size.passed and size.severity == dg.AssetCheckSeverity.WARN
    assert size.metadata["failing_rows"].value == 2
    assert size.metadata["sample"].value == [{"widget": "A1", "size": 0}, {"widget": "TEST3", "size": -2}]
    assert size.description == "raw.widgets: 2 row(s) break size_positive."
    named = evaluations["no_test_widgets"]
    assert not named.passed and named.severity == dg.AssetCheckSeverity.ERROR
    assert named.metadata["sample"].value == [{"widget": "TEST3"}]
