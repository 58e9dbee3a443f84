"""The table folders' definitions, loaded by Dagster's component machinery.

``dg.load_from_defs_folder`` would also import every Python module under ``pipeline/defs`` and
collect its assets a second time (``definitions.py`` assembles those with their checks, jobs and
sensors); so each table folder (a ``defs.yaml`` naming WarehouseTable) is built on its own, from
the project's component tree.
"""

import warnings

import dagster as dg

import pipeline.defs
from pipeline.constants import PROJECT_ROOT
from pipeline.defs.declarations import table_folders


def load_table_folders() -> dg.Definitions:
    """Every ``pipeline/defs/<layer>/<table>/`` folder's asset and checks."""
    with warnings.catch_warnings():
        # Dagster links each component's assets to its defs.yaml with code references, beta in 1.13.
        warnings.simplefilter("ignore", dg.BetaWarning)
        tree = dg.ComponentTree.from_module(defs_module=pipeline.defs, project_root=PROJECT_ROOT)
        return dg.Definitions.merge(*(tree.build_defs_at_path(folder) for folder in table_folders()))
