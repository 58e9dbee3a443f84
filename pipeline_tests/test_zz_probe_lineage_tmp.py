import sys
sys.path.insert(0, "/work/main/pipeline_tests/warehouse")
from test_lineage import LAYERS, sql_files, lineage_of, warehouse_columns  # noqa: F401

def test_probe(warehouse_columns):
    print({t: len(c) for t, c in warehouse_columns.items()})
    for layer in LAYERS:
        for path in sql_files(layer):
            print("==", path, f"{path.parent.name}.{path.stem}" in warehouse_columns)
            for col, deps in lineage_of(path, warehouse_columns).items():
                print("  ", col, deps)
