"""Alerts: every failed run reaches a person through the ``notifier`` resource.

``run_failure_alert`` (running by default) turns a failed run into one alert: a JSON line under
data/alerts/, and a webhook post when ``ALERT_WEBHOOK_URL`` is set.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
from pydantic import Field

from pipeline import constants
from pipeline.paths import resolve_path


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
        return resolve_path(self.log_path, constants.ALERT_LOG_PATH_ENV, constants.DEFAULT_ALERT_LOG_PATH)

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


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Sends an alert for every failed run through the notifier (log file under data/alerts/, "
        "and $ALERT_WEBHOOK_URL when set). Running by default: a failure nobody hears about is "
        "the costliest kind."
    ),
)
def run_failure_alert(context: dg.RunFailureSensorContext, notifier: AlertNotifier) -> None:
    run = context.dagster_run
    failed_steps = [
        {"step": event.step_key, "error": event.step_failure_data.error.message.strip()}
        for event in context.get_step_failure_events()
        if event.step_failure_data and event.step_failure_data.error
    ]
    alert = {
        "kind": "run_failure",
        "run_id": run.run_id,
        "job": run.job_name,
        "partition": run.tags.get("dagster/partition"),
        "message": context.failure_event.message,
        "failed_steps": failed_steps,
    }
    error = notifier.send(alert)
    context.log.info(f"Alert for failed run {run.run_id} written to {notifier.alert_log}.")
    if error is not None:
        context.log.error(error)
