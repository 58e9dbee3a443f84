"""``WarehouseTable``: a table is a folder, ``pipeline/defs/<layer>/<table>/``.

The folder's ``defs.yaml`` declares the table (``pipeline.defs.declarations.TableDeclaration``);
a staging table's folder also holds ``<table>.sql``, the SELECT that builds it. From these alone
come the asset ``<layer>/<table>`` (group = layer, deps from the tables the SQL reads, column
schema, lineage, code references, owner) and its checks:

- raw: the landed file's table (its ingest contract is the declaration), with the raw checks
  (row count against the landed file, required columns, key values filled, key unique);
- staging: the table ``<table>.sql`` builds, checked against the declaration before it commits,
  with the key's uniqueness check when the key is one column;
- either: one check per ``checks/<name>.sql`` in the folder (``folder_checks.py``).

``dg scaffold defs pipeline.components.WarehouseTable staging/<table>`` writes a folder to fill in.
"""

from pathlib import Path

import dagster as dg

from pipeline.components.folder_checks import folder_sql_checks
from pipeline.defs.declarations import TableDeclaration, declared_tables_by_name
from pipeline.defs.raw.assets import raw_asset
from pipeline.defs.raw.checks import raw_table_checks
from pipeline.defs.staging.assets import staging_asset
from pipeline.defs.staging.checks import dimension_key_check

SCAFFOLDED_COLUMNS = [
    {"name": "code", "type": "VARCHAR", "description": "What identifies a row.", "key": True},
    {"name": "name", "type": "VARCHAR", "description": "What a reader calls it."},
]


class WarehouseTableScaffolder(dg.Scaffolder):
    """A folder with a declaration to fill in, and for staging ``<table>.sql`` reading raw's table."""

    def scaffold(self, request: dg.ScaffoldRequest) -> None:
        folder = Path(request.target_path)
        layer, name = folder.parent.name, folder.name
        attributes = {
            "description": f"Landed {name} file." if layer == "raw" else f"One row per {name} code.",
            "owner": "team:data-platform",
            **({"lands": "whole"} if layer == "raw" else {}),
            "columns": SCAFFOLDED_COLUMNS,
        }
        dg.scaffold_component(request, attributes)
        if layer == "staging":
            (folder / f"{name}.sql").write_text(f"select\n    code,\n    name\nfrom raw.{name}\n")


@dg.scaffold_with(WarehouseTableScaffolder)
class WarehouseTable(dg.Component, TableDeclaration, dg.Resolvable):
    """A warehouse table declared by its folder: columns, descriptions, keys and rules in
    ``defs.yaml``, and for staging the SQL that builds it (``<table>.sql``)."""

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        return table_folder_defs(self, context.path)


def table_folder_defs(declaration: TableDeclaration, folder: Path) -> dg.Definitions:
    """The asset of the table declared in ``folder`` and its checks."""
    layer, name = folder.parent.name, folder.name
    table = declaration.table(layer, name, declared_tables_by_name())
    owners = [declaration.owner]
    if layer == "raw":
        asset = raw_asset(table)
        checks = raw_table_checks(table, declaration.required_values(table))
    elif layer == "staging":
        asset = staging_asset(table, sql_name=f"{name}/{name}", params=declaration.sql_params(folder))
        checks = [dimension_key_check(table, declaration.joined_by)] if len(table.key) == 1 else []
    else:
        raise ValueError(f"{folder}: WarehouseTable builds raw and staging tables, not {layer}")
    return dg.Definitions(
        assets=[asset.map_asset_specs(lambda spec: spec.replace_attributes(owners=owners))],
        asset_checks=[*checks, *folder_sql_checks(table, folder)],
    )
