"""Every value of a landed file checked against its column's domain, on the text as delivered.

The file is parsed with every column as VARCHAR (``landed``), so nothing is coerced before it is
checked. From the raw table's declaration (``pipeline/defs/raw/<table>/defs.yaml``) each column's text is
then typed only if it is exactly a value of the declared type:

- an integer column takes the integer's own decimal text: digits with an optional minus sign, no
  plus sign, leading zeros, decimals, exponent or whitespace (the text must equal the cast value
  cast back to text, so ``12.5``, ``1e3``, `` 12`` and ``012`` are all refused, never rounded);
- a DOUBLE column takes a decimal number, optionally with an exponent as the source writes some
  (``1012.3``, ``-9.94``, ``1e3``), finite, no whitespace; the stored value is that number's
  nearest double;
- a VARCHAR column takes any non-empty text without leading or trailing whitespace or control
  characters (line breaks, tabs);
- ``NA`` is a missing value, allowed only in a nullable column; an empty field is refused (the
  source writes missing values as NA).

Then the declared rules on the typed values (ranges, clock times, code sets, patterns), the
agreements between a row's values, the file's month (monthly files) and the key. All rules and
the rows repeating a key are counted in one pass over the parsed table (``sql/domain_counts.sql``,
one ``count(*) filter`` each); only a rule that fails (or a repeated key, ``keys.py``) is read
again for its first lines. Each problem names the line, the column
and the delivered text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pipeline.landing.quarantine import Problem
from pipeline.months import MonthKey
from pipeline.warehouse.identifiers import IDENTIFIER_PATTERN
from pipeline.warehouse.sql_files import Fixed, load_sql
from pipeline.warehouse.tables import Column, Rule, Table

SQL_DIR = Path(__file__).parent / "sql"
SAMPLE_LINES = 10  # lines listed per broken rule; the count says how many there are in all
INTEGER_TYPES = {
    "TINYINT": (-(2**7), 2**7 - 1),
    "SMALLINT": (-(2**15), 2**15 - 1),
    "INTEGER": (-(2**31), 2**31 - 1),
    "BIGINT": (-(2**63), 2**63 - 1),
}
TEXT_TYPES = ("VARCHAR", "DOUBLE", *INTEGER_TYPES)
DOUBLE_TEXT = r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
TEXT_DEFECT = r"^[\s\pZ]|[\s\pZ]$|[[:cntrl:]]"
_DOUBLE = re.compile(DOUBLE_TEXT)
_SIGNED_DIGITS = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
RULE_MEANINGS = {
    "hhmm": "a clock time hhmm with minutes under 60",
    "isin": "one of a closed set of codes",
    "str_matches": "a pattern",
}


def quote(name: str) -> str:
    """A declared column name as a quoted identifier (declarations only ever hold plain names)."""
    if not IDENTIFIER_PATTERN.fullmatch(name.removesuffix(":text")):
        raise ValueError(f"column name {name!r} is not a plain identifier")
    return f'"{name}"'


@dataclass(frozen=True)
class DomainRule:
    """One rule as SQL over the typed rows: ``failing`` is true for a row that breaks it."""

    column: str  # the column a problem names
    kind: str  # missing | text | value | agreement | month
    label: str
    failing: str
    params: dict[str, Any]
    shown: tuple[str, ...]  # the columns whose delivered text a problem shows
    rule: Rule | None = None


def _typed_value(column: Column, text: str) -> str:
    if column.type not in TEXT_TYPES:
        raise ValueError(f"raw column {column.name} has type {column.type}, which ingest cannot check")
    if column.type in INTEGER_TYPES:
        value = f"try_cast({text} as {column.type})"
        return f"case when {value}::varchar = {text} then {value} end"
    if column.type == "DOUBLE":
        value = f"try_cast({text} as DOUBLE)"
        return f"case when regexp_full_match({text}, $double_text) and isfinite({value}) then {value} end"
    return f"case when {text} <> '' and not regexp_matches({text}, $text_defect) then {text} end"


def typed_columns(columns: list[Column], *, stored: bool = False) -> Fixed:
    """Each column's text (``"<column>:text"``) and its value if the text is exactly one of its type,
    from the text columns of ``landed``; ``stored``: from ``landed`` holding the stored values,
    where only a VARCHAR is still text (the others were typed from their exact text)."""

    def pair(column: Column) -> str:
        name = f"landed.{quote(column.name)}"
        if stored and column.type != "VARCHAR":
            return f"{name}::varchar as {quote(column.name + ':text')}, {name} as {quote(column.name)}"
        return (
            f"{name} as {quote(column.name + ':text')}, {_typed_value(column, name)} as {quote(column.name)}"
        )

    return Fixed(",\n        ".join(pair(c) for c in columns))


def domain_rules(table: Table, month_start: date | None) -> list[DomainRule]:
    columns = [c for c in table.columns if c.name in table.csv_columns()]
    rules: list[DomainRule] = []
    for c in columns:
        value, text = quote(c.name), quote(c.name + ":text")
        if not c.nullable:
            rules.append(DomainRule(c.name, "missing", "not NA", f"{text} is null", {}, (c.name,)))
        rules.append(
            DomainRule(c.name, "text", c.type, f"{text} is not null and {value} is null", {}, (c.name,))
        )
        for rule in c.rules:
            holds, params = rule.holds(value, f"p{len(rules)}")
            failing = f"{value} is not null and not coalesce({holds}, false)"
            rules.append(DomainRule(c.name, "value", rule.label, failing, params, (c.name,), rule))
    for agreement in table.row_rules:
        typed = " and ".join(
            f"({quote(n + ':text')} is null or {quote(n)} is not null)" for n in agreement.columns
        )
        failing = f"{typed} and not coalesce({agreement.label}, true)"
        rules.append(
            DomainRule(
                ", ".join(agreement.columns),
                "agreement",
                agreement.meaning,
                failing,
                {},
                agreement.columns,
            )
        )
    if month_start is not None:
        failing = (
            '"year" is not null and "month" is not null and "day" is not null and not ('
            '"year" = $month_year and "month" = $month_number and "day" between 1 and $month_days)'
        )
        next_month = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
        rules.append(
            DomainRule(
                "month",
                "month",
                "in the file's month",
                failing,
                {
                    "month_start": month_start,
                    "month_year": month_start.year,
                    "month_number": month_start.month,
                    "month_days": (next_month - month_start).days,
                },
                ("year", "month", "day"),
            )
        )
    return rules


def _text_problem(column: Column, text: str) -> str:
    shown = repr(text)
    if text == "":
        return "empty value (a missing value is written NA)"
    if text != text.strip():
        return f"value {shown} has leading or trailing whitespace"
    if column.type in INTEGER_TYPES:
        low, high = INTEGER_TYPES[column.type]
        if _SIGNED_DIGITS.fullmatch(text):
            if not low <= int(text) <= high:
                return f"value {shown} does not fit {column.type} ({low}…{high})"
            return f"value {shown} is not written as the integer itself ({int(text)}: no plus sign or leading zeros)"
        what = "a decimal number, not an integer" if _NUMBER.fullmatch(text) else "not a number"
        return f"value {shown} is {what}: {column.type} takes digits with an optional minus sign"
    if column.type == "DOUBLE":
        if _DOUBLE.fullmatch(text):
            return f"value {shown} is too large for DOUBLE"
        return f"value {shown} is not a decimal number (written like 1012.3, -9.94 or 1e3)"
    if _CONTROL.search(text):
        return f"value {shown} holds a control character or line break"
    return f"value {shown} has leading or trailing whitespace"


def _problem(rule: DomainRule, table: Table, line: int, texts: tuple[str | None, ...]) -> Problem:
    if rule.kind == "missing":
        return Problem("value NA (missing), but the column requires a value", line, rule.column)
    if rule.kind == "text":
        return Problem(_text_problem(table.column(rule.column), texts[0]), line, rule.column)
    if rule.kind == "value":
        meaning = RULE_MEANINGS.get(rule.rule.check) if rule.rule else None
        return Problem(
            f"value {texts[0]!r} breaks {rule.label}" + (f" ({meaning})" if meaning else ""),
            line,
            rule.column,
        )
    if rule.kind == "month":
        year, month, day = (int(text) for text in texts)
        month_start = rule.params["month_start"]
        dated = f"{year:04d}-{month:02d}-{day:02d}"
        if (year, month) != (month_start.year, month_start.month):
            column = "year" if year != month_start.year else "month"
            return Problem(
                f"dated {dated}, outside the file's month {MonthKey.from_date(month_start)}", line, column
            )
        return Problem(f"{dated} is not a valid date", line, "day")
    values = ", ".join(
        f"{name}={'NA' if text is None else repr(text)}" for name, text in zip(rule.shown, texts, strict=True)
    )
    return Problem(f"{values} disagree: {rule.label}", line, rule.column)


def rule_params(rules: list[DomainRule], sql: str, **more: Any) -> dict[str, Any]:
    """The rules' parameters that ``sql`` uses (DuckDB refuses any it does not)."""
    params: dict[str, Any] = {"double_text": DOUBLE_TEXT, "text_defect": TEXT_DEFECT, **more}
    for rule in rules:
        params.update(rule.params)
    return {name: value for name, value in params.items() if re.search(rf"\${name}\b", sql)}


def repeated_key_rows(key_columns: list[str]) -> str:
    """An aggregate counting at least as many rows as repeat the key ``key_columns`` (quoted): rows
    less distinct hashes of the key. Equal keys always hash alike, so a repeated key is never
    missed; two keys that merely collide make a count above zero, and the exact query that then
    runs (``keys.duplicate_keys``) finds no repeat."""
    return f"count(*) - count(distinct hash({', '.join(key_columns)}))"


def check_values(
    conn: duckdb.DuckDBPyConnection, table: Table, month_start: date | None
) -> tuple[list[Problem], int]:
    """Every rule broken by the text in ``landed``: up to SAMPLE_LINES problems per rule, then a
    count; and, from the same scan, whether rows may repeat a key (``keys.duplicate_keys`` tells which)."""
    rules = domain_rules(table, month_start)
    typed = typed_columns([c for c in table.columns if c.name in table.csv_columns()])
    counted = [f"count(*) filter (where {rule.failing})" for rule in rules]
    if table.key:  # counted in the same scan as the rules, on the key's text as delivered
        counted.append(repeated_key_rows([quote(name + ":text") for name in table.key]))
    counts_sql = load_sql(
        SQL_DIR, "domain_counts", typed_columns=typed, rule_counts=Fixed(",\n    ".join(counted))
    )
    counts = conn.execute(counts_sql, rule_params(rules, counts_sql)).fetchall()[0]
    surplus_key_rows = counts[len(rules)] if table.key else 0
    problems: list[Problem] = []
    for rule, failing_rows in zip(rules, counts[: len(rules)], strict=True):
        if not failing_rows:
            continue
        sample_sql = load_sql(
            SQL_DIR,
            "domain_sample",
            typed_columns=typed,
            shown_columns=Fixed(", ".join(f"typed.{quote(name + ':text')}" for name in rule.shown)),
            failing=Fixed(rule.failing),
        )
        sample = conn.execute(
            sample_sql, rule_params([rule], sample_sql, sample_size=SAMPLE_LINES)
        ).fetchall()
        problems.extend(_problem(rule, table, line, tuple(texts)) for line, *texts in sample)
        if failing_rows > len(sample):
            problems.append(
                Problem(
                    f"... {failing_rows:,} lines in all break this rule ({rule.label}); the first "
                    f"{len(sample)} are listed",
                    sample[-1][0],
                    rule.column,
                )
            )
    return problems, surplus_key_rows
