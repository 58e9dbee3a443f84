"""The documentation against the code: every repository path it cites exists, and every environment
variable the code reads is documented in docs/operations.md.

Paths are taken from inline code and code blocks (words that name a file of the repository by its
suffix, or a folder of one of its top-level packages) and from relative Markdown links. Environment
variables are found by scanning the source of pipeline/ and deploy/, not from a list kept here.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [
    PROJECT_ROOT / "README.md",
    *sorted((PROJECT_ROOT / "docs").glob("*.md")),
    PROJECT_ROOT / "bench" / "RESULTS.md",
]
OPERATIONS = PROJECT_ROOT / "docs" / "operations.md"
SOURCE_DIRS = ("pipeline", "deploy")

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`]+)`")
LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
FILE_SUFFIXES = (".py", ".sql", ".yaml", ".yml", ".md", ".sh", ".toml", ".csv")
PACKAGE_FOLDERS = ("pipeline/", "pipeline_tests/", "deploy/", "bench/", "docs/")
# Placeholders and patterns (`<table>.sql`, `checks/*.sql`, `$DAGSTER_HOME/logs`) name no one path.
PLACEHOLDER = re.compile(r"[<>*{}$…]")
# A leading "./" or "../" stays (a link's own folder); enclosing punctuation of prose goes.
WORD_EDGES = "\"'(),;:"

ENV_READ = re.compile(r"(?:environ|env|getenv|EnvVar)(?:\.get)?[\[(]\s*[\"']([A-Z][A-Z0-9_]+)[\"']")
# The process's own variables, read to start a child process as this one runs: no setting of ours.
PROCESS_VARIABLES = {"PATH", "PYTHONPATH", "HOME", "TMPDIR"}


def _cited_words(text: str) -> list[str]:
    blocks = FENCE.findall(text)
    spans = INLINE_CODE.findall(FENCE.sub("", text))
    return [word.strip(WORD_EDGES) for chunk in (*blocks, *spans) for word in chunk.split()]


def _looks_like_repository_path(word: str) -> bool:
    if "/" not in word or "://" in word or word.startswith(("/", "~")) or PLACEHOLDER.search(word):
        return False
    return word.endswith(FILE_SUFFIXES) or (word.endswith("/") and word.startswith(PACKAGE_FOLDERS))


def _git_ignored(paths: list[str]) -> set[str]:
    """Paths that .gitignore covers: what the pipeline, the benchmarks or the tests generate
    (data/..., bench/work/..., .dagster_home/), which a fresh checkout does not hold."""
    if not paths:
        return set()
    found = subprocess.run(
        ["git", "check-ignore", "--no-index", *paths], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert found.returncode in (0, 1), found.stderr
    return set(found.stdout.split())


def _missing_paths(document: Path) -> list[str]:
    text = document.read_text()
    links = [
        target.split("#")[0]
        for target in LINK_TARGET.findall(text)
        if "://" not in target and target[0] != "#"
    ]
    words = [word for word in _cited_words(text) if _looks_like_repository_path(word)]
    missing = [
        word for word in words if not (PROJECT_ROOT / word).exists() and not (document.parent / word).exists()
    ]
    missing_links = [link for link in links if not (document.parent / link).exists()]
    generated = _git_ignored(sorted(set(missing)))
    return sorted({word for word in missing if word not in generated} | set(missing_links))


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_every_path_a_document_cites_exists(document):
    assert _missing_paths(document) == []


def test_the_path_matcher_skips_urls_placeholders_asset_keys_and_generated_paths():
    cited = (
        "See `https://github.com/x/y.md`, `/dev/shm`, `staging/flights`, `<table>.sql`, "
        "`checks/*.sql`, `bench/work/run.md`, `data/reports/carrier_on_time.png` and "
        "`pipeline/nowhere.py` (`python -m deploy.stack`), `bash deploy/quickstart.sh --no-ui`."
    )
    words = [word for word in _cited_words(cited) if _looks_like_repository_path(word)]
    assert words == ["bench/work/run.md", "pipeline/nowhere.py", "deploy/quickstart.sh"]
    assert _git_ignored(words) == {"bench/work/run.md"}


def _env_constants(tree: ast.Module) -> set[str]:
    """Values of ``NAME_ENV = "VARIABLE"``: the project names each variable it reads that way and
    hands the constant to the reader (pipeline/paths.py, the readiness settings, ...)."""
    return {
        node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and any(isinstance(target, ast.Name) and target.id.endswith("_ENV") for target in node.targets)
    }


def environment_variables_read() -> set[str]:
    found = set()
    for folder in SOURCE_DIRS:
        for source in (PROJECT_ROOT / folder).rglob("*.py"):
            text = source.read_text()
            found |= set(ENV_READ.findall(text)) | _env_constants(ast.parse(text))
    return found - PROCESS_VARIABLES


def test_the_scan_finds_the_variables_the_code_reads():
    assert {"WAREHOUSE_PATH", "WAREHOUSE_BACKEND", "DUCKLAKE_CATALOG", "LANDING_SETTLE_SECONDS",
            "CODE_REFERENCES_GIT_URL", "DAGSTER_CELERY_QUEUE", "DAGSTER_PG_HOST"} <= environment_variables_read()  # fmt: skip


def test_every_environment_variable_the_code_reads_is_in_operations_md():
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]*\*?)`", OPERATIONS.read_text()))
    families = tuple(name.rstrip("*") for name in documented if name.endswith("_*"))
    undocumented = {
        name
        for name in environment_variables_read()
        if name not in documented and not name.startswith(families)
    }
    assert undocumented == set(), "add them to the Configuration table of docs/operations.md"
