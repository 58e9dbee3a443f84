"""A sound landed file parsed, checked and inserted in one streaming statement.

Most deliveries are sound, and for them the diagnosis of ``ingest.py`` (the text kept in a
temporary table, every rule counted over it, then inserted from it) reads the values three times.
Here a file is read once: ``sql/checked_insert.sql`` parses it with every column as text, types
each value only where its text is exactly a value of the declared type, and inserts a row only if
it breaks none of the rules ``domain.py`` derives from the declaration (the same rules the
diagnosis counts) that read numbers. A text column goes in as its text, and the rules that read
text (patterns, the time zone agreement: the costly ones per row) are then evaluated once per
distinct value of the rows just inserted (``sql/distinct_values_broken.sql``), and the key is
checked. The file is sound when every record went in, no line was rejected and none of that
found anything. Anything else (a rule broken, a rejected or blank line, a record over two lines, a
repeated key) and the rows are removed again, inside the same transaction, for ``ingest.py`` to
say what is wrong, line by line. So a file is loaded either whole and checked by every rule, or
not at all.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.landing import domain
from pipeline.landing.framing import Framing
from pipeline.landing.timing import phase
from pipeline.warehouse.identifiers import qualified_table_name
from pipeline.warehouse.sql_files import Fixed, load_sql
from pipeline.warehouse.tables import Table

if TYPE_CHECKING:
    import duckdb


def _read_per_row(rule: domain.DomainRule, table: Table) -> bool:
    """Whether the insert checks ``rule`` on every row; a rule that reads text (a pattern, a time
    zone) is checked after it, once per distinct value (``_broken_on_distinct_values``)."""
    return rule.kind == "missing" or all(table.column(name).type != "VARCHAR" for name in rule.shown)


def _insert_checked_rows(
    conn: duckdb.DuckDBPyConnection,
    target: str,
    table: Table,
    path: Path,
    rules: list[domain.DomainRule],
    lineage: dict[str, str],
) -> tuple[int, int]:
    """Insert the rows of the file at ``path`` that break none of ``rules``; returns (rows
    inserted, lines rejected). A VARCHAR column is inserted as its text, to be checked after."""
    columns = [c for c in table.columns if c.name in table.csv_columns()]
    sql = load_sql(
        domain.SQL_DIR,
        "checked_insert",
        target=Fixed(target),
        landed_csv=Fixed(load_sql(domain.SQL_DIR, "landed_csv")),
        value_columns=Fixed(
            ", ".join(
                f"typed.{domain.quote(c.name + ':text') if c.type == 'VARCHAR' else domain.quote(c.name)}"
                f" as {domain.quote(c.name)}"
                for c in columns
            )
        ),
        typed_columns=domain.typed_columns(columns),
        rule_broken=Fixed(" or ".join(f"({rule.failing})" for rule in rules) or "false"),
    )
    # DuckDB appends every store_rejects scan of a connection to the same tables.
    conn.execute("drop table if exists reject_errors").fetchall()
    conn.execute("drop table if exists reject_scans").fetchall()
    params = {"path": str(path), "columns": dict.fromkeys(table.csv_columns(), "VARCHAR"), **lineage}
    inserted = conn.execute(sql, domain.rule_params(rules, sql, **params)).fetchall()[0][0]
    rejected = conn.execute("select count(*) from reject_errors").fetchall()[0][0]
    return inserted, rejected


def _broken_on_distinct_values(
    conn: duckdb.DuckDBPyConnection, table: Table, rules: list[domain.DomainRule]
) -> bool:
    """Whether a row just inserted (the view ``landed_rows``) breaks one of ``rules``, each group
    of rules over the same columns evaluated once per distinct combination of their values, all
    groups in one scan. The stored text of a VARCHAR column is its delivered text; an integer's is
    its value's (the insert took only its exact text)."""
    if not rules:
        return False
    by_columns: dict[tuple[str, ...], list[domain.DomainRule]] = {}
    for rule in rules:
        by_columns.setdefault(tuple(sorted(set(rule.shown))), []).append(rule)
    names = sorted({name for group in by_columns for name in group})

    def grouping_set(group: tuple[str, ...]) -> int:
        # DuckDB's grouping(): one bit per column, most significant first, set where not grouped.
        return sum(1 << (len(names) - 1 - i) for i, name in enumerate(names) if name not in group)

    sql = load_sql(
        domain.SQL_DIR,
        "distinct_values_broken",
        columns=Fixed(", ".join(domain.quote(name) for name in names)),
        grouping_sets=Fixed(
            ", ".join(f"({', '.join(domain.quote(name) for name in group)})" for group in by_columns)
        ),
        typed_columns=domain.typed_columns([table.column(name) for name in names], stored=True),
        rule_broken=Fixed(
            " or ".join(
                f"(grouping_set = {grouping_set(group)} and ({' or '.join(f'({r.failing})' for r in grouped)}))"
                for group, grouped in by_columns.items()
            )
        ),
    )
    return conn.execute(sql, domain.rule_params(rules, sql)).fetchall()[0][0]


def _repeats_a_key(conn: duckdb.DuckDBPyConnection, table: Table) -> bool:
    if not table.key:
        return False
    counted = Fixed(domain.repeated_key_rows([domain.quote(name) for name in table.key]))
    return (
        conn.execute(load_sql(domain.SQL_DIR, "surplus_key_rows", surplus_key_rows=counted)).fetchall()[0][0]
        > 0
    )


def insert_if_sound(
    conn: duckdb.DuckDBPyConnection,
    target: str,
    table: Table,
    path: Path,
    month_start: date | None,
    framed: Framing,
    lineage: dict[str, str],
) -> int | None:
    """The rows the file at ``path`` inserted into ``target``, all of them checked; None, with
    nothing inserted, if the file is not sound. ``lineage``: ``source_file`` and ``source_version``.

    When it returns the rows, the view ``landed`` holds them as text for the coverage and key-value
    reads that follow (``coverage.py``, ``keys.key_values``)."""
    qualified = qualified_table_name(*target.split("."))
    conn.execute(
        "set variable landed_file = $source_file", {"source_file": lineage["source_file"]}
    ).fetchall()
    conn.execute(load_sql(domain.SQL_DIR, "landed_rows", target=Fixed(qualified))).fetchall()
    rules = domain.domain_rules(table, month_start)
    per_row = [rule for rule in rules if _read_per_row(rule, table)]
    with phase("checked insert"):
        inserted, rejected = _insert_checked_rows(conn, qualified, table, path, per_row, lineage)
    sound = inserted == framed.record_lines - 1 > 0 and not rejected
    if sound:
        with phase("text rules on distinct values"):
            sound = not _broken_on_distinct_values(conn, table, [r for r in rules if r not in per_row])
    if sound:
        with phase("key repeats"):
            sound = not _repeats_a_key(conn, table)
    if not sound:
        with phase("checked insert undone"):
            conn.execute(load_sql(domain.SQL_DIR, "remove_landed_rows", target=Fixed(qualified))).fetchall()
        return None
    text_columns = Fixed(
        ", ".join(f"{domain.quote(name)}::varchar as {domain.quote(name)}" for name in table.csv_columns())
    )
    conn.execute(load_sql(domain.SQL_DIR, "landed_rows_as_text", text_columns=text_columns)).fetchall()
    return inserted
