"""Resources: the warehouse, the landing zone and the DuckDB IO manager.

Locations come from environment variables read when a run launches (not when the code location
is imported), with defaults under data/: WAREHOUSE_PATH, LANDING_DIR, QUARANTINE_DIR, REPORT_DIR,
ARCHIVE_DIR. A configured path may not contain ``..``: settings name folders, they do not climb out
of them.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
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


class AlertNotifier(dg.ConfigurableResource):
    """Delivers alerts: one JSON line appended to a log file, and a JSON POST to a webhook if set.

    The log file is written first, so an alert survives a webhook that is down; a failed delivery
    is logged there too. The webhook URL often embeds a token: it is read from the environment at
    use time, never stored in git, and only its host appears in messages.
    """

    log_path: str | None = Field(
        default=None,
        description="JSON-lines alert log; default $ALERT_LOG_PATH or data/alerts/alerts.jsonl.",
    )
    webhook_url: str | None = Field(
        default=None,
        description="http(s) URL that receives each alert as JSON; default $ALERT_WEBHOOK_URL, "
        "none when unset.",
    )
    webhook_timeout_seconds: float = Field(default=10.0, description="Per attempt.")
    webhook_attempts: int = Field(default=3, ge=1, description="Attempts before giving up.")

    @property
    def alert_log(self) -> Path:
        return resolve_path(
            self.log_path, constants.ALERT_LOG_PATH_ENV, constants.DEFAULT_ALERT_LOG_PATH
        )

    @property
    def resolved_webhook_url(self) -> str | None:
        return self.webhook_url or os.environ.get(constants.ALERT_WEBHOOK_URL_ENV) or None

    def send(self, alert: Mapping[str, object]) -> str | None:
        """Record ``alert`` and post it; returns the webhook delivery error, None if delivered or unset."""
        self._append({"logged_at": _utc_now(), **alert})
        url = self.resolved_webhook_url
        if url is None:
            return None
        error = self._post(url, json.dumps(alert, default=str).encode())
        if error is not None:
            self._append({"logged_at": _utc_now(), "kind": "webhook_delivery_failed", "error": error})
        return error

    def _append(self, record: Mapping[str, object]) -> None:
        self.alert_log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.alert_log, "a", encoding="utf-8") as log:
            log.write(json.dumps(record, default=str, sort_keys=True) + "\n")

    def _post(self, url: str, body: bytes) -> str | None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            return f"webhook URL for host {parsed.hostname!r} is not an http(s) URL; not posted"
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        error = None
        for attempt in range(1, self.webhook_attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.webhook_timeout_seconds) as response:
                    response.read()
                return None
            except (urllib.error.URLError, OSError) as exc:
                reason = exc.code if isinstance(exc, urllib.error.HTTPError) else getattr(exc, "reason", exc)
                error = f"webhook at {parsed.hostname} failed after {attempt} attempt(s): {reason}"
                if attempt < self.webhook_attempts:
                    time.sleep(2 ** (attempt - 1))
        return error


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
