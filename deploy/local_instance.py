"""The local Dagster instance (./dagster.yaml), and copies of it for a DAGSTER_HOME elsewhere.

The quick start and the README's commands set DAGSTER_HOME to the repository root, where
dagster.yaml stays, and the file puts the instance's storage under ``.dagster_home/`` relative to
the current folder (the repository root). A temporary instance (a test's, a benchmark's) takes the
same settings without those storage locations, so that Dagster keeps everything inside that home.
"""

from __future__ import annotations

from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_PATH = PROJECT_ROOT / "dagster.yaml"
STORAGE_KEYS = ("storage", "local_artifact_storage", "compute_logs")


def write_dagster_home(home: Path, **instance_config) -> Path:
    """``home`` as a Dagster instance folder: the project's dagster.yaml with storage at Dagster's
    default (inside ``home``) and the given top-level keys replaced."""
    config = yaml.safe_load(CONFIG_PATH.read_text())
    settings = {key: value for key, value in config.items() if key not in STORAGE_KEYS}
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump({**settings, **instance_config}))
    return home
