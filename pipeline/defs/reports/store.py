"""The ``report_store`` resource: the folder the report's chart files are written to."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from pipeline import constants
from pipeline.paths import resolve_path


class ReportStore(dg.ConfigurableResource):
    """Folder the report's chart files are written to."""

    path: str | None = Field(default=None, description="Report folder; default $REPORT_DIR or data/reports.")

    @property
    def root(self) -> Path:
        return resolve_path(self.path, constants.REPORT_DIR_ENV, constants.DEFAULT_REPORT_DIR)
