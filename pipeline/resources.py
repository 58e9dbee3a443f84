"""Resources: the warehouse, the landing zone and the DuckDB IO manager.

Locations come from environment variables read when a run launches (not when the code location
is imported), with defaults under data/: WAREHOUSE_PATH, LANDING_DIR, QUARANTINE_DIR, REPORT_DIR,
ARCHIVE_DIR. A configured path may not contain ``..``: settings name folders, they do not climb out
of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from pipeline import constants, warehouse
from pipeline.landing import resolve_landed_file


class UnsafeConfiguredPath(ValueError):
    """A configured path that climbs out of its folder with ``..``."""


def resolve_path(configured: str | None, env_var: str, default: Path) -> Path:
    """An explicit setting wins, then the environment variable, then the default under data/."""
    path = Path(configured or os.environ.get(env_var) or default)
    if ".." in path.parts:
        source = "configured" if configured else f"${env_var}"
        raise UnsafeConfiguredPath(
            f"Path {str(path)!r} ({source}) contains '..'; name the folder directly."
        )
    return path


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file, opened under the project's inter-process lock."""

    path: str | None = Field(
        default=None, description="DuckDB file; default $WAREHOUSE_PATH or data/warehouse.duckdb."
    )
    lock_timeout_seconds: float = Field(
        default=300.0,
        description="How long to wait for another process's hold on the warehouse before failing.",
    )

    @property
    def database(self) -> Path:
        return resolve_path(
            self.path, constants.WAREHOUSE_PATH_ENV, constants.DEFAULT_WAREHOUSE_PATH
        )

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(
            self.database, timeout_seconds=self.lock_timeout_seconds, read_only=read_only
        ) as conn:
            yield conn


class LandingZone(dg.ConfigurableResource):
    """Where upstream drops source files, and where rejected files are kept for inspection."""

    path: str | None = Field(
        default=None, description="Landing folder; default $LANDING_DIR or data/landing."
    )
    quarantine_path: str | None = Field(
        default=None, description="Quarantine folder; default $QUARANTINE_DIR or data/quarantine."
    )
    archive_path: str | None = Field(
        default=None,
        description="Every loaded file version, kept for audit; default $ARCHIVE_DIR or an "
        "'archive' folder beside the landing folder.",
    )

    @property
    def root(self) -> Path:
        return resolve_path(self.path, constants.LANDING_DIR_ENV, constants.DEFAULT_LANDING_DIR)

    @property
    def quarantine_root(self) -> Path:
        return resolve_path(
            self.quarantine_path, constants.QUARANTINE_DIR_ENV, constants.DEFAULT_QUARANTINE_DIR
        )

    @property
    def archive_root(self) -> Path:
        return resolve_path(self.archive_path, constants.ARCHIVE_DIR_ENV, self.root.parent / "archive")

    def landed_file(self, name: str) -> Path:
        """The landing file called ``name``; UnsafeLandingPath for a non-plain name or a symlink."""
        return resolve_landed_file(self.root, name)


class ReportStore(dg.ConfigurableResource):
    """Folder the report's chart files are written to."""

    path: str | None = Field(
        default=None, description="Report folder; default $REPORT_DIR or data/reports."
    )

    @property
    def root(self) -> Path:
        return resolve_path(self.path, constants.REPORT_DIR_ENV, constants.DEFAULT_REPORT_DIR)
