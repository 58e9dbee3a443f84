"""``WarehouseTable``: a table is a folder, ``pipeline/defs/<layer>/<table>/``.

The folder's ``defs.yaml`` declares the table (``pipeline.defs.declarations.TableDeclaration``);
a staging table's or mart's folder also holds ``<table>.sql``, the SELECT that builds it. From
these alone come the asset ``<layer>/<table>`` (group = layer, deps from the tables the SQL reads,
column schema, lineage, code references, owner) and its checks:

- raw: the landed file's table (its ingest contract is the declaration; monthly files are one
  partition each and must cover their month as ``coverage`` says), with the raw checks (row count
  against the landed file, required columns, key values filled, key unique);
- staging: the table ``<table>.sql`` builds (a month at a time with ``partition_expr``), checked
  against the declaration before it commits, with the key's uniqueness check when the key is one
  column;
- marts: the mart ``<table>.sql`` builds, published with its blocking ``reconciles_with_staging``
  (``reconciles_with_staging.sql``, the ``reconciliation`` declared) in one transaction;
- any: one check per ``checks/<name>.sql`` in the folder (``folder_checks.py``).

``dg scaffold defs pipeline.components.WarehouseTable staging/<table>`` writes a folder to fill in.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import BaseModel

from pipeline.components.folder_checks import folder_sql_checks
from pipeline.defs.declarations import TableDeclaration, declared_tables_by_name
from pipeline.defs.marts.assets import sql_mart
from pipeline.defs.marts.checks import RECONCILES_WITH_STAGING, Reconciliation
from pipeline.defs.raw.assets import raw_asset
from pipeline.defs.raw.checks import raw_table_checks
from pipeline.defs.staging.assets import staging_asset
from pipeline.defs.staging.checks import dimension_key_check
from pipeline.warehouse.sql_files import load_sql

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

    @classmethod
    def load(cls, attributes: BaseModel | None, context: dg.ComponentLoadContext) -> WarehouseTable:
        # A declaration is plain data with no templates: validated as such. Dagster's resolution
        # renders every value as a template, about 25 ms a folder on every code-location load.
        return cls.model_validate(attributes.model_dump(exclude_unset=True) if attributes else {})

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        return table_folder_defs(self, context.path)


def table_folder_defs(declaration: TableDeclaration, folder: Path) -> dg.Definitions:
    """The asset of the table declared in ``folder`` and its checks."""
    layer, name = folder.parent.name, folder.name
    table = declaration.table(layer, name, declared_tables_by_name())
    owners = [declaration.owner]
    if layer == "raw":
        asset = raw_asset(table, declaration.month_coverage(table))
        checks = raw_table_checks(table, declaration.required_values(table))
    elif layer == "staging":
        asset = staging_asset(
            table,
            sql_name=f"{name}/{name}",
            partition_expr=declaration.partition_expr,
            params=declaration.sql_params(folder),
        )
        checks = [dimension_key_check(table, declaration.joined_by)] if len(table.key) == 1 else []
    elif layer == "marts" and declaration.reconciliation is not None:
        reconciled = declaration.reconciliation
        sql = load_sql(folder, RECONCILES_WITH_STAGING)
        asset = sql_mart(table, Reconciliation(table, reconciled.grain, reconciled.described_grain, sql))
        checks = []
    else:
        raise ValueError(
            f"{folder}: WarehouseTable builds raw, staging and marts tables (a mart with its reconciliation)"
        )
    return dg.Definitions(
        assets=[asset.map_asset_specs(lambda spec: spec.replace_attributes(owners=owners))],
        asset_checks=[*checks, *folder_sql_checks(table, folder)],
    )
