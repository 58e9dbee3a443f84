"""Write–audit–publish: a table built, checked and published on one snapshot, or not at all.

A mart's blocking checks compare it with the tables it is built from. Built, stored and checked in
three steps, another run's commit to staging could land between them: the check then fails on
correct data, or — a read before and a write after another run's rebuild — the older build is
published last and stays stale. Here the new version is built, checked against the same snapshot of
its inputs, and committed in one transaction:

- the file backend holds the file's lock on one connection from the first read to the commit, so
  no other process reads or writes in between;
- DuckLake takes the table's advisory lock before the transaction begins and keeps it to the
  commit, so the rebuilds of one table run one after another, each reading the snapshot committed
  before it started (a later run's staging commit is followed by that run's own rebuild).

A failing blocking check rolls the transaction back: the previous version stays, and the step
reports the check results it computed (a failed blocking check fails the step, as Dagster does
for any blocking check). The materialization carries the version's fingerprint and what changed
from the version it replaced (pipeline/warehouse/versions.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dagster as dg
import duckdb
from dagster._core.types.dagster_type import DagsterTypeKind

from pipeline.warehouse import versions
from pipeline.warehouse.connection import table_exists
from pipeline.warehouse.contracts import CompiledContract, ContractViolation
from pipeline.warehouse.outputs import EmptyOutputError
from pipeline.warehouse.tables import Table
from pipeline.warehouse.type_handlers import PREVIEW_ROWS, markdown_preview

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.warehouse.resources import Warehouse

CANDIDATE = "publish_candidate"


class PublishedTableType(dg.DagsterType):
    """The Dagster type of a table its own step publishes: named after its contract, as the UI shows
    it, and handing nothing to an IO manager — the rows were checked against the contract in DuckDB
    before the commit, and readers read the table."""

    def __init__(self, table: Table):
        self.table = table
        super().__init__(
            # Nothing is handed over (a MaterializeResult carries no value): the check is DuckDB's.
            type_check_fn=lambda _context, _value: dg.TypeCheck(
                success=True, description="Rows checked in DuckDB before the commit."
            ),
            name=table.contract_name,
            description=f"{table.description} Checked by DuckDB in the transaction that publishes it.",
            kind=DagsterTypeKind.NOTHING,
            metadata={"schema": dg.MetadataValue.table_schema(table.column_schema())},
        )


@dataclass(frozen=True)
class Audit:
    """A check of the new version, evaluated on the publishing transaction's connection."""

    spec: dg.AssetCheckSpec
    evaluate: Callable[[duckdb.DuckDBPyConnection], dg.AssetCheckResult]


@dataclass(frozen=True)
class Publication:
    """What a publish reports: the materialization (None when withheld) and every check's result."""

    table: Table
    materialization: dg.MaterializeResult | None
    checks: tuple[dg.AssetCheckResult, ...]

    @property
    def published(self) -> bool:
        return self.materialization is not None

    def events(self) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        """The step's events: the materialization with its checks, or the checks alone."""
        if self.materialization is not None:
            yield self.materialization
        else:
            yield from self.checks


class _Withheld(Exception):
    """A blocking check failed: raised inside the transaction so that it rolls back."""

    def __init__(self, checks: Sequence[dg.AssetCheckResult]):
        super().__init__("a blocking check failed")
        self.checks = tuple(checks)


def _blocks(audit: Audit, outcome: dg.AssetCheckResult) -> bool:
    return audit.spec.blocking and not outcome.passed and outcome.severity == dg.AssetCheckSeverity.ERROR


def publish(
    warehouse: Warehouse,
    table: Table,
    build: Callable[[duckdb.DuckDBPyConnection], None],
    audits: Sequence[Audit] = (),
    metadata: Mapping[str, Any] | None = None,
) -> Publication:
    """Build ``table``'s new version, audit it and publish it, in one transaction.

    ``build`` creates the temporary table ``publish_candidate`` on the connection; its rows must obey
    the table's declaration (the contract is checked before anything is replaced). ``audits`` run on
    the published name inside the transaction, seeing the new version and the inputs it was built
    from. ``metadata`` is added to the materialization.
    """
    try:
        with warehouse.write_transaction(table) as conn:
            build(conn)
            changes = _replace(conn, table)
            outcomes = [audit.evaluate(conn) for audit in audits]
            if any(_blocks(audit, outcome) for audit, outcome in zip(audits, outcomes, strict=True)):
                raise _Withheld(outcomes)
            published = _metadata(conn, table, changes)
    except _Withheld as withheld:
        return Publication(table, None, withheld.checks)
    except (ContractViolation, EmptyOutputError) as refused:
        # The same rows fail the same way again: no retry, the operator hears at once.
        raise dg.Failure(description=str(refused), allow_retries=False) from refused
    return Publication(
        table,
        dg.MaterializeResult(
            asset_key=table.asset_key, metadata={**published, **dict(metadata or {})}, check_results=outcomes
        ),
        tuple(outcomes),
    )


def candidate_from_query(
    sql: str, params: Mapping[str, Any] | None = None
) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """A ``build`` that runs a SELECT into the candidate."""

    def build(conn: duckdb.DuckDBPyConnection) -> None:
        conn.execute(f"create or replace temp table {CANDIDATE} as ({sql})", dict(params or {})).fetchall()

    return build


def candidate_from_frame(frame: pd.DataFrame) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """A ``build`` that takes a DataFrame's rows as the candidate."""

    def build(conn: duckdb.DuckDBPyConnection) -> None:
        conn.register("publish_frame", frame)
        try:
            conn.execute(
                f"create or replace temp table {CANDIDATE} as select * from publish_frame"
            ).fetchall()
        finally:
            conn.unregister("publish_frame")

    return build


def _replace(conn: duckdb.DuckDBPyConnection, table: Table) -> versions.Changes | None:
    """Check the candidate against the table's contract, then put it in the table's place."""
    candidate = f"temp.main.{CANDIDATE}"
    violations = CompiledContract.compile(table).violations(conn, candidate)
    if violations:
        raise ContractViolation(table.asset_key.to_user_string(), table.contract_name, violations)
    if not conn.execute(f"select count(*) from {candidate}").fetchone()[0]:
        raise EmptyOutputError(
            f"{table.asset_key.to_user_string()} produced no rows; refusing to replace "
            f"{table.qualified_name} with nothing. The stored data is unchanged."
        )
    changes = None
    conn.execute(f"create schema if not exists {table.schema}").fetchall()
    if table_exists(conn, table.schema, table.name):
        declared = {column.name: column.type for column in table.columns}
        changes = versions.changes(conn, table.qualified_name, candidate, table.key, declared)
    conn.execute(f"create or replace table {table.qualified_name} as select * from {candidate}").fetchall()
    conn.execute(f"drop table {candidate}").fetchall()
    return changes


def _metadata(
    conn: duckdb.DuckDBPyConnection, table: Table, changes: versions.Changes | None
) -> dict[str, Any]:
    rows = conn.execute(f"select count(*) from {table.qualified_name}").fetchone()[0]
    preview = conn.execute(f"select * from {table.qualified_name} limit {PREVIEW_ROWS}").fetchdf()
    described = {
        "dagster/row_count": rows,
        "dagster/column_schema": table.column_schema(),
        "dagster/storage_kind": "duckdb",
        "preview": dg.MetadataValue.md(markdown_preview(preview)),
        "version": versions.fingerprint(conn, table.qualified_name),
    }
    if changes is None:
        return {**described, "changes": dg.MetadataValue.md("First version of the table.")}
    return {
        **described,
        "changes": dg.MetadataValue.md(changes.markdown()),
        "rows_added": changes.added,
        "rows_removed": changes.removed,
        "rows_changed": changes.changed,
        "changed_columns": dg.MetadataValue.json(changes.changed_columns),
        "changed_examples": dg.MetadataValue.json(changes.examples),
    }
