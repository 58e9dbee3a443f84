"""What a complete month of each monthly raw table holds (``pipeline/landing/coverage.py``), by name.

Declared in the table's folder (``coverage`` in ``raw/<table>/defs.yaml``, with why its figures
hold for all twelve months of the 2013 source).
"""

from pipeline.defs.declarations import folder_tables

MONTH_COVERAGE = {
    found.table.name: coverage
    for found in folder_tables().values()
    if (coverage := found.declaration.month_coverage(found.table)) is not None
}
