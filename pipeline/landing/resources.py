"""The ``landing_zone`` resource: where upstream drops files, and where rejected and accepted
versions are kept."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from pipeline import constants
from pipeline.landing.names import resolve_landed_file
from pipeline.paths import resolve_path


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
