"""Data contracts: a table's rules (``pipeline.warehouse.tables``) enforced where its data is written.

Staging outputs are WarehouseQuery objects that DuckDB runs straight into the table, so there is
no frame to validate: the table's rules are compiled to DuckDB queries (column presence and types,
nullability, uniqueness, each rule's failing rows) that the IO manager runs on the written slice
inside its transaction, after the insert and before the commit. Mart outputs are small DataFrames:
a pandera schema derived from the same declaration validates the frame before the IO manager
writes it. Either way a table that breaks its contract never replaces the stored one, and the
error names the table, partition, column, rule, the number of failing rows and a sample of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from pipeline.warehouse.outputs import WarehouseContractType, WarehouseQuery
from pipeline.warehouse.tables import Table

SAMPLE_SIZE = 5


class ContractViolation(ValueError):
    """Rows written by an output break its contract; the write is rolled back."""

    def __init__(self, output: str, contract: str, violations: Sequence[Violation]):
        self.output, self.contract, self.violations = output, contract, list(violations)
        lines = "\n".join(f"  - {violation}" for violation in self.violations)
        super().__init__(
            f"{output} breaks its contract {contract} ({len(self.violations)} rule(s)); nothing was "
            f"written, the stored data is unchanged:\n{lines}"
        )


@dataclass(frozen=True)
class Violation:
    """A broken rule; ``failing_rows`` is None for a rule about the column itself (presence, type)."""

    column: str
    rule: str
    failing_rows: int | None
    sample: tuple[Any, ...] = ()

    def __str__(self) -> str:
        if self.failing_rows is None:
            return f"column {self.column}: {self.rule}"
        sample = ", ".join(_render(value) for value in self.sample)
        return f"column {self.column}: {self.rule} fails for {self.failing_rows:,} row(s), e.g. {sample}"


def _render(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_render(part) for part in value) + ")"
    return "NULL" if value is None else repr(value) if isinstance(value, str) else str(value)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class _SqlRule:
    """One row-level rule as SQL: ``failing`` is true for a row that breaks it."""

    column: str
    name: str
    failing: str
    params: dict[str, Any]


def _sql_rules(table: Table) -> list[_SqlRule]:
    rules = []
    for column in table.columns:
        quoted = _quote(column.name)
        if not column.nullable:
            rules.append(_SqlRule(column.name, "not null", f"{quoted} is null", {}))
        for rule in column.rules:
            holds, params = rule.holds(quoted, f"p_{len(rules)}")  # each rule binds its own names
            failing = f"{quoted} is not null and not coalesce({holds}, false)"
            rules.append(_SqlRule(column.name, rule.label, failing, params))
    for row_rule in table.row_rules:
        rules.append(_SqlRule(row_rule.left, row_rule.label, f"not coalesce({row_rule.label}, true)", {}))
    return rules


@dataclass(frozen=True)
class CompiledContract:
    """A table's declaration as DuckDB queries over a relation (the written slice)."""

    table: Table
    rules: tuple[_SqlRule, ...]

    @classmethod
    def compile(cls, table: Table) -> CompiledContract:
        return cls(table, tuple(_sql_rules(table)))

    def violations(self, connection, relation: str, sample_size: int = SAMPLE_SIZE) -> list[Violation]:
        """Every broken rule over ``relation`` (a table name or a parenthesized SELECT)."""
        actual = {
            name: dtype
            for name, dtype, *_ in connection.execute(f"describe select * from {relation}").fetchall()
        }
        found = self._column_violations(actual)
        broken_columns = {violation.column for violation in found}
        rules = [rule for rule in self.rules if rule.column not in broken_columns]
        # Pattern and set rules on text columns run once per distinct value, weighted by its
        # rows: regular expressions over every row of a fact table cost several times more.
        by_value = [rule for rule in rules if rule.name != "not null" and actual[rule.column] == "VARCHAR"]
        groups: dict[str, list[_SqlRule]] = {"": [rule for rule in rules if rule not in by_value]}
        for rule in by_value:
            groups.setdefault(rule.column, []).append(rule)
        for column, group in groups.items():
            if not group:
                continue
            if column:
                source = f"(select {_quote(column)}, count(*) as contract_rows from {relation} as contract_slice group by 1)"
                rows = "sum(contract_rows)"
            else:  # counting the rows directly is twice as fast as summing a constant column
                source = f"(select * from {relation} as contract_slice)"
                rows = "count(*)"
            params = {key: value for rule in group for key, value in rule.params.items()}
            counts = connection.execute(
                "select "
                + ", ".join(f"coalesce({rows} filter (where {rule.failing}), 0)" for rule in group)
                + f" from {source} as contract_rows_source",
                params,
            ).fetchone()
            for rule, failing_rows in zip(group, counts, strict=True):
                if failing_rows:
                    found.append(
                        self._rule_violation(connection, relation, rule, int(failing_rows), sample_size)
                    )
        for key in self._unique_keys():
            if not broken_columns.intersection(key):
                found.extend(duplicate_violations(connection, relation, key, sample_size))
        return found

    @staticmethod
    def _rule_violation(
        connection, relation: str, rule: _SqlRule, failing_rows: int, sample_size: int
    ) -> Violation:
        sample = connection.execute(
            f"select distinct {_quote(rule.column)} from {relation} as contract_slice "
            f"where {rule.failing} order by 1 nulls first limit {int(sample_size)}",
            rule.params,
        ).fetchall()
        return Violation(rule.column, rule.name, failing_rows, tuple(row[0] for row in sample))

    def _column_violations(self, actual: dict[str, str]) -> list[Violation]:
        found = []
        for column in self.table.columns:
            if column.name not in actual:
                found.append(Violation(column.name, "missing (the contract requires it)", None))
            elif actual[column.name] != column.type:
                found.append(
                    Violation(
                        column.name, f"type {actual[column.name]}, the contract requires {column.type}", None
                    )
                )
        for name in sorted(actual.keys() - set(self.table.column_names)):
            found.append(Violation(name, f"{actual[name]} column not in the contract", None))
        return found

    def _unique_keys(self) -> list[tuple[str, ...]]:
        keys = [(column.name,) for column in self.table.columns if column.unique]
        return keys + [self.table.unique] * bool(self.table.unique)


def duplicate_violations(
    connection, relation: str, key: Iterable[str], sample_size: int = SAMPLE_SIZE
) -> list[Violation]:
    """Rows of ``relation`` that share their ``key`` with another row, as one Violation."""
    key = tuple(key)
    columns = ", ".join(_quote(column) for column in key)
    duplicates = (
        f"select {columns}, count(*) as copies from {relation} as keyed group by all having count(*) > 1"
    )
    failing_rows = connection.execute(f"select coalesce(sum(copies), 0) from ({duplicates})").fetchone()[0]
    if not failing_rows:
        return []
    sample = connection.execute(f"{duplicates} order by all limit {int(sample_size)}").fetchall()
    label = ", ".join(key)
    return [
        Violation(
            label if len(key) > 1 else key[0],
            f"unique ({label})",
            int(failing_rows),
            tuple(tuple(row[:-1]) for row in sample),
        )
    ]


class WarehouseTableType(WarehouseContractType):
    """The Dagster type of a staging table: a WarehouseQuery whose stored rows obey the table's rules."""

    def __init__(self, table: Table):
        self.table = table
        self.contract = CompiledContract.compile(table)
        super().__init__(
            type_check_fn=_is_warehouse_query,
            name=table.contract_name,
            description=f"{table.description} Checked by DuckDB on the written rows before commit.",
            typing_type=WarehouseQuery,
            metadata={"schema": dg.MetadataValue.table_schema(table.column_schema())},
        )

    def validate_stored_slice(self, connection, slice_select: str, *, output: str) -> None:
        violations = self.contract.violations(connection, f"({slice_select})")
        if violations:
            raise ContractViolation(output, self.table.contract_name, violations)


def _is_warehouse_query(_context, value) -> dg.TypeCheck:
    if isinstance(value, WarehouseQuery):
        return dg.TypeCheck(success=True, description="Rows are checked in DuckDB before commit.")
    return dg.TypeCheck(success=False, description=f"Expected a WarehouseQuery, got {type(value).__name__}.")


_PANDAS_DTYPES = {
    "TINYINT": "int8",
    "SMALLINT": "int16",
    "INTEGER": "int32",
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "VARCHAR": "str",
    "BOOLEAN": "bool",
    "TIMESTAMP": "datetime64[ns]",
}


def pandera_schema(table: Table):
    """The table's declaration as a pandera schema for a DataFrame of it (pandera imported here)."""
    import pandera.pandas as pa

    def dtype(column):
        pandas_dtype = _PANDAS_DTYPES[column.type]
        # pandas' nullable integers are capitalised (Int32): NumPy integers cannot hold a null.
        return (
            pandas_dtype.capitalize() if column.nullable and pandas_dtype.startswith("int") else pandas_dtype
        )

    return pa.DataFrameSchema(
        name=table.contract_name,
        description=table.description,
        strict=True,
        unique=list(table.unique) or None,
        checks=[pa.Check(rule.pandas_holds(), error=rule.label) for rule in table.row_rules],
        columns={
            column.name: pa.Column(
                dtype(column),
                [rule.pandera_check() for rule in column.rules],
                nullable=column.nullable,
                unique=column.unique,
                description=column.description,
            )
            for column in table.columns
        },
    )


class DataFrameContractType(dg.DagsterType):
    """The Dagster type of a DataFrame of a table's rows (a fitted model before it is published),
    which the table's derived pandera schema accepts: ``<contract name>Frame`` in the UI.

    pandera is imported on the first check, at run time, not when the code location loads.
    """

    def __init__(self, table: Table):
        self.table = table
        super().__init__(
            type_check_fn=self._check,
            name=f"{table.contract_name}Frame",
            description=f"{table.description} Validated as a DataFrame (pandera) before it is written.",
            metadata={"schema": dg.MetadataValue.table_schema(table.column_schema())},
        )

    def _check(self, _context, frame) -> dg.TypeCheck:
        import pandas as pd
        import pandera.errors

        if not isinstance(frame, pd.DataFrame):
            return dg.TypeCheck(
                success=False, description=f"Expected a DataFrame, got {type(frame).__name__}."
            )
        try:
            pandera_schema(self.table).validate(frame, lazy=True)
        except pandera.errors.SchemaErrors as errors:
            return dg.TypeCheck(success=False, description=str(errors))
        return dg.TypeCheck(success=True, description=f"{len(frame):,} rows obey {self.table.contract_name}.")
