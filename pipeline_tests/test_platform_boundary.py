"""The platform packages (warehouse, landing, automation) know no table by name and import nothing
from the project's definitions: what they need about tables is handed to them from the declarations.

Every table name declared in any layer (``pipeline/defs/<layer>/tables.py`` or a table folder) is looked for as a word,
in any case, in the platform's Python and SQL, docstrings and comments included.
"""

import importlib
import re
from pathlib import Path

import pytest

from pipeline.constants import DEFS_DIR, PACKAGE_DIR
from pipeline.defs.declarations import folder_tables
from pipeline.warehouse.tables import Table

PLATFORM_PACKAGES = ("warehouse", "landing", "automation")
FORBIDDEN_IMPORT = re.compile(r"^\s*(from|import)\s+pipeline\.(definitions|defs)\b|^\s*from\s+\.\.?defs\b")


def declared_tables() -> list[Table]:
    declared = []
    for module_path in sorted(DEFS_DIR.glob("*/tables.py")):
        module = importlib.import_module(f"pipeline.defs.{module_path.parent.name}.tables")
        declared += [value for value in vars(module).values() if isinstance(value, Table)]
    return declared + [found.table for found in folder_tables().values()]


def platform_files() -> list[Path]:
    return sorted(
        path
        for package in PLATFORM_PACKAGES
        for path in (PACKAGE_DIR / package).rglob("*")
        if path.suffix in (".py", ".sql")
    )


def _lines(path: Path):
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        yield f"{path.relative_to(PACKAGE_DIR.parent)}:{number}", line


def test_every_layer_declares_tables_to_look_for():
    names = {table.name for table in declared_tables()}
    layers = {table.schema for table in declared_tables()}
    assert {"raw", "staging", "marts"} <= layers
    assert len(names) >= 10


def test_no_platform_file_names_a_declared_table():
    names = sorted({table.name for table in declared_tables()}, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b", re.IGNORECASE)
    found = [
        f"{where}: {match[0]!r} in {line.strip()}"
        for path in platform_files()
        for where, line in _lines(path)
        if (match := pattern.search(line))
    ]
    assert found == [], "table names in the platform packages:\n" + "\n".join(found)


def test_no_platform_module_imports_the_definitions():
    found = [
        f"{where}: {line.strip()}"
        for path in platform_files()
        if path.suffix == ".py"
        for where, line in _lines(path)
        if FORBIDDEN_IMPORT.search(line)
    ]
    assert found == [], "imports of pipeline.definitions or pipeline.defs:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("line", "forbidden"),
    [
        ("from pipeline.defs.raw.tables import RAW_TABLES", True),
        ("    from pipeline.definitions import defs", True),
        ("import pipeline.defs.raw", True),
        ("from pipeline.defaults import x", False),
        ("from pipeline.warehouse.tables import Table", False),
    ],
)
def test_the_import_rule_tells_definitions_from_the_rest(line, forbidden):
    assert bool(FORBIDDEN_IMPORT.search(line)) is forbidden
