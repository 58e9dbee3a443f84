"""Locations from configuration: an explicit setting, else an environment variable, else a default.

Environment variables are read when a resource is used (at launch), never at import. A configured
path may not contain ``..``: settings name folders, they do not climb out of them.
"""

from __future__ import annotations

import os
from pathlib import Path


class UnsafeConfiguredPath(ValueError):
    """A configured path that climbs out of its folder with ``..``."""


def resolve_path(configured: str | None, env_var: str, default: Path) -> Path:
    """An explicit setting wins, then the environment variable, then the default under data/."""
    path = Path(configured or os.environ.get(env_var) or default)
    if ".." in path.parts:
        source = "configured" if configured else f"${env_var}"
        raise UnsafeConfiguredPath(f"Path {str(path)!r} ({source}) contains '..'; name the folder directly.")
    return path
