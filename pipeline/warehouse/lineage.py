"""Table and column lineage of the warehouse's SQL, derived with sqlglot (DuckDB dialect).

``tables_read`` names the tables a SELECT reads: an asset's dependencies, written once, in its SQL.

``column_lineage`` maps every output column of a SELECT to the source table columns it is
computed from: every column its expression reads, through CTEs, subqueries, ``union all``
(``by name`` too), ``*`` (with ``exclude``/``replace``) and scalar subqueries, including columns
in CASE conditions, function arguments, aggregate ``filter (where ...)`` clauses and window
``partition by``/``order by``, since they all decide the value. Columns that only filter, join
or group rows (WHERE, JOIN ... ON, GROUP BY, QUALIFY) are not lineage.

An output column that reads no column at all (a constant, ``current_timestamp``, a ``$name``
parameter, ``count(*)``) maps to an empty list: ``count(*)`` counts rows and depends on no
column, so the caller decides whether an empty lineage is acceptable. Rows read from a file
(``read_csv(...)``) are not a table, so they add nothing to a column's lineage.

When sqlglot cannot trace a column (an unknown column or table, an unexpandable ``*``, an
unnamed projection), ``LineageError`` names the column and the SQL file, rather than the
lineage silently missing an input.
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dagster as dg
from sqlglot import exp, parse_one
from sqlglot.errors import SqlglotError
from sqlglot.lineage import Node, lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope, traverse_scope

DIALECT = "duckdb"

SourceColumn = tuple[str, str]
"""A column of a source table: ("schema.table", column name)."""


class LineageError(ValueError):
    """The lineage of an output column of a SQL file cannot be derived."""


@functools.lru_cache(maxsize=128)
def tables_read(sql: str, *, sql_file: str) -> frozenset[str]:
    """The tables ``sql`` reads, each as "schema.table": in any FROM or JOIN, CTEs and subqueries
    included. A CTE's name is not a table, nor is a table function such as ``read_csv(...)``.

    ``from staging.some_table`` gives "staging.some_table"; a table named without its schema
    raises ``LineageError``, since which asset holds it would be a guess. ``sql_file`` names the
    SQL in error messages.
    """
    try:
        scopes = traverse_scope(parse_one(sql, dialect=DIALECT))
    except SqlglotError as error:
        raise LineageError(f"{sql_file}: sqlglot cannot parse it: {error}") from error
    tables = {
        source
        for scope in scopes
        for source in scope.sources.values()
        if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier)
    }
    unqualified = sorted(table.name for table in tables if not table.db)
    if unqualified:
        raise LineageError(f"{sql_file}: reads {unqualified} without a schema; name them 'schema.table'")
    return frozenset(f"{table.db}.{table.name}" for table in tables)


def column_lineage(
    sql: str, sources: Mapping[str, Sequence[str]], *, sql_file: str
) -> dict[str, list[SourceColumn]]:
    """Map each output column of ``sql`` to the sorted source columns it is computed from.

    ``sources`` gives the columns, in order, of every table the SQL reads, keyed
    "schema.table"; ``sql_file`` names the SQL in error messages. Worked out once per SQL text and
    sources in a process (every partition's materialization asks again; sqlglot takes ~0.1 s).
    """
    frozen = tuple((table, tuple(columns)) for table, columns in sources.items())
    return {output: list(found) for output, found in _column_lineage(sql, frozen, sql_file).items()}


@functools.lru_cache(maxsize=128)
def _column_lineage(
    sql: str, sources: tuple[tuple[str, tuple[str, ...]], ...], sql_file: str
) -> dict[str, tuple[SourceColumn, ...]]:
    tables = dict(sources)
    schema = _sqlglot_schema(tables)
    try:
        query = parse_one(sql, dialect=DIALECT)
        if not isinstance(query, exp.Query):
            raise LineageError(f"{sql_file}: not a SELECT, so it has no column lineage")
        _require_named_outputs(query, sql_file)
        query = qualify(query, dialect=DIALECT, schema=schema, validate_qualify_columns=False, identify=False)
        _align_unions_by_name(query, sql_file)
        scope = build_scope(query)
        nodes = {
            column: lineage(column, query, schema, dialect=DIALECT, scope=scope)
            for column in query.named_selects
        }
    except SqlglotError as error:
        raise LineageError(f"{sql_file}: sqlglot cannot derive the column lineage: {error}") from error
    return {
        column: tuple(_source_columns(node, tables, column=column, sql_file=sql_file))
        for column, node in nodes.items()
    }


def table_column_lineage(
    lineage_by_column: Mapping[str, Sequence[SourceColumn]],
    asset_key_for_table: Callable[[str], dg.AssetKey],
) -> dg.TableColumnLineage:
    """Dagster's ``dagster/column_lineage`` value for a ``column_lineage`` result.

    ``asset_key_for_table`` maps a "schema.table" name to the asset that materializes it.
    """
    return dg.TableColumnLineage(
        deps_by_column={
            column: [
                dg.TableColumnDep(asset_key=asset_key_for_table(table), column_name=source_column)
                for table, source_column in source_columns
            ]
            for column, source_columns in lineage_by_column.items()
        }
    )


def column_lineage_metadata(lineage_by_column: Mapping[str, Sequence[SourceColumn]]) -> dict[str, Any]:
    """Materialization metadata of a ``column_lineage`` result, its tables being the assets keyed
    ``[schema, table]``: ``dagster/column_lineage`` for Dagster's features and API, and
    ``column_lineage``, the same as a table a person reads in the UI."""
    lineage = table_column_lineage(lineage_by_column, lambda table: dg.AssetKey(table.split(".")))
    return {
        "dagster/column_lineage": lineage,
        "column_lineage": dg.MetadataValue.md(lineage_markdown(lineage)),
    }


def _sqlglot_schema(sources: Mapping[str, Sequence[str]]) -> dict[str, dict[str, dict[str, str]]]:
    """``sources`` as sqlglot's nested schema; column types do not matter for lineage."""
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for table, columns in sources.items():
        schema_name, dot, table_name = table.partition(".")
        if not dot or "." in table_name:
            raise ValueError(f"source table {table!r} is not named 'schema.table'")
        schema.setdefault(schema_name, {})[table_name] = dict.fromkeys(columns, "unknown")
    return schema


def _require_named_outputs(query: exp.Query, sql_file: str) -> None:
    """Every output column must be a star, a column or aliased, or its name is sqlglot's guess."""
    for projection in query.selects:
        if not isinstance(projection, (exp.Star, exp.Column, exp.Alias)):
            raise LineageError(
                f"{sql_file}: output column {projection.sql(dialect=DIALECT)!r} has no alias, "
                "so its name cannot be traced"
            )


def _align_unions_by_name(query: exp.Expression, sql_file: str) -> None:
    """Rewrite each ``union [all] by name`` of the qualified query into a positional union.

    sqlglot's lineage pairs the columns of set operations by position; ordering the right
    branch's columns as the left's keeps ``by name`` pairing them by name.
    """
    for union in query.find_all(exp.SetOperation):
        if not union.args.get("by_name"):
            continue
        left_names, right = union.left.named_selects, union.right
        if not isinstance(right, exp.Select) or sorted(right.named_selects) != sorted(left_names):
            raise LineageError(
                f"{sql_file}: the branches of {union.key} by name have different columns "
                f"({left_names} and {right.named_selects}); lineage needs the same columns"
            )
        right_by_name = {projection.alias_or_name: projection for projection in right.selects}
        right.set("expressions", [right_by_name[name] for name in left_names])
        union.set("by_name", None)


def _source_columns(
    node: Node, sources: Mapping[str, Sequence[str]], *, column: str, sql_file: str
) -> list[SourceColumn]:
    """The source table columns at the leaves of ``column``'s sqlglot lineage graph."""
    found: set[SourceColumn] = set()
    for leaf in node.walk():
        if leaf.downstream:
            continue
        source = leaf.source
        if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
            found.add(_known_source_column(leaf, source, sources, column=column, sql_file=sql_file))
        elif isinstance(source, exp.Placeholder):
            raise LineageError(
                f"{sql_file}: cannot derive the lineage of output column {column!r}: "
                f"sqlglot cannot tell which table {leaf.name!r} comes from"
            )
        # Otherwise the leaf reads no table column: a projection of no column (a constant,
        # count(*)) or a table function that reads a file, such as read_csv(...).
    return sorted(found)


def _known_source_column(
    leaf: Node,
    table: exp.Table,
    sources: Mapping[str, Sequence[str]],
    *,
    column: str,
    sql_file: str,
) -> SourceColumn:
    """The (table, column) a lineage leaf reads, spelled as in ``sources``, which must list it."""
    table_name = f"{table.db}.{table.name}" if table.db else table.name
    source_column = exp.to_column(leaf.name).name
    spelling = {name.lower(): name for name in sources.get(table_name, ())}
    if source_column.lower() not in spelling:
        raise LineageError(
            f"{sql_file}: cannot derive the lineage of output column {column!r}: it reads "
            f"{table_name}.{source_column}, which is not a column of the tables given as sources"
        )
    return table_name, spelling[source_column.lower()]


def lineage_markdown(lineage: dg.TableColumnLineage) -> str:
    """The lineage as a table a person reads: each column and the upstream columns it comes from.

    Open-source Dagster keeps ``dagster/column_lineage`` for a view it does not ship; this copy is
    shown with the materialization's metadata.
    """
    rows = [
        f"| {column} | {', '.join(f'{dep.asset_key.to_user_string()}.{dep.column_name}' for dep in deps) or '(no column: counts rows or is a constant)'} |"
        for column, deps in lineage.deps_by_column.items()
    ]
    return "\n".join(["| column | computed from |", "| --- | --- |", *rows])
