"""Launch a job with ``dg launch`` and print a short summary instead of its event stream.

``python -m deploy.launch --job full_refresh [--partition KEY] [--ui-url URL]`` runs ``dg launch``
(in process, on the instance of ``$DAGSTER_HOME``) with its own output kept aside, and follows the
run's events in that instance: one line per asset as its step completes, a line per failed check,
each failed step with its error, then the run's result and where the chart is. The exit status is
0 only if the run succeeded. All of the run's events stay in the instance (the UI's Runs page);
``dg launch``'s output is printed only if it ends without a run to show.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, TextIO

import dagster as dg

from deploy.topology import executable

POLL_SECONDS = 0.5
OUTPUT_TAIL_CHARS = 3000
CHART_METADATA = "chart_path"
FOLLOWED_EVENTS = {
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
}


@dataclass
class RunSummary:
    """What the run's events said so far, printed as they arrive."""

    out: TextIO
    materialized: dict[str, list[dg.AssetMaterialization]] = field(default_factory=dict)
    assets: int = 0
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)  # their severities
    failed_steps: list[str] = field(default_factory=list)
    chart: str | None = None

    def add(self, event: dg.EventLogEntry) -> None:
        dagster_event = event.dagster_event
        step = dagster_event.step_key
        if dagster_event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = dagster_event.step_materialization_data.materialization
            self.materialized.setdefault(step, []).append(materialization)
            chart = materialization.metadata.get(CHART_METADATA)
            self.chart = chart.value if chart is not None else self.chart
        elif dagster_event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            self._check(dagster_event.event_specific_data)
        elif dagster_event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            self._step_done(step, dagster_event.event_specific_data.duration_ms / 1000)
        elif dagster_event.event_type == dg.DagsterEventType.STEP_FAILURE:
            self._step_failed(step, dagster_event.step_failure_data.error)

    def _check(self, evaluation: dg.AssetCheckEvaluation) -> None:
        if evaluation.passed:
            self.checks_passed += 1
            return
        name = f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}"
        severity = evaluation.severity.value.lower()
        self.checks_failed.append(severity)
        description = evaluation.description or ""
        self.out.write(f"  check failed ({severity}): {name}{': ' if description else ''}{description}\n")

    def _step_done(self, step: str, seconds: float) -> None:
        partitions_by_asset: dict[str, list[str]] = {}
        for materialization in self.materialized.pop(step, []):
            partitions = partitions_by_asset.setdefault(materialization.asset_key.to_user_string(), [])
            partitions += [materialization.partition] if materialization.partition else []
        for asset, partitions in partitions_by_asset.items():
            self.assets += 1
            self.out.write(f"  done  {asset:<36} {_partitions_label(partitions):<28} {seconds:6.1f} s\n")

    def _step_failed(self, step: str, error) -> None:
        # Dagster names an asset's step after its key joined with "__" (raw/flights: raw__flights).
        label = step.replace("__", "/")
        self.failed_steps.append(label)
        self.out.write(f"  FAILED {label}:\n")
        shown = ""
        while error is not None:  # the error, then each cause that says something new
            body = error.message.strip().split(": ", 1)[-1]
            if body not in shown:
                # A Failure's message is the step's own description; other errors are named.
                text = body if error.cls_name == "Failure" else f"{error.cls_name}: {body}"
                self.out.writelines(f"      {line}\n" for line in text.splitlines())
                shown += body
            error = error.cause

    def result(self, run: dg.DagsterRun, seconds: float) -> str:
        severities = ", ".join(f"{self.checks_failed.count(s)} {s}" for s in sorted(set(self.checks_failed)))
        checks = f"{self.checks_passed} checks passed" + (
            f", {len(self.checks_failed)} failed ({severities})" if self.checks_failed else ""
        )
        if run.status == dg.DagsterRunStatus.SUCCESS:
            return (
                f"Run {run.run_id} succeeded in {seconds:.0f} s: {self.assets} assets materialized, {checks}."
            )
        failed = ", ".join(self.failed_steps) or "see the run's events"
        return (
            f"Run {run.run_id} FAILED after {seconds:.0f} s ({run.status.value}; failed: {failed}); {checks}."
        )


def _partitions_label(partitions: list[str]) -> str:
    if len(partitions) <= 1:
        return "".join(partitions)
    return f"{min(partitions)} … {max(partitions)} ({len(partitions)})"


def _launched_run(instance: dg.DagsterInstance, job: str, since: datetime) -> dg.DagsterRun | None:
    """The first run of ``job`` created since ``since``: the one ``dg launch`` created."""
    runs = instance.get_runs(dg.RunsFilter(job_name=job, created_after=since))
    return runs[-1] if runs else None  # newest first


def _follow(instance: dg.DagsterInstance, run_id: str, cursor: str | None, summary: RunSummary) -> str | None:
    """Hand the run's new events to ``summary``; return the cursor after them."""
    while True:
        found = instance.get_records_for_run(run_id, cursor=cursor, of_type=FOLLOWED_EVENTS, limit=1000)
        for record in found.records:
            summary.add(record.event_log_entry)
        cursor = found.cursor
        summary.out.flush()
        if not found.has_more:
            return cursor


def _output_tail(output: IO[bytes]) -> str:
    output.seek(0)
    return output.read().decode(errors="replace")[-OUTPUT_TAIL_CHARS:]


def launch(job: str, partition: str | None, ui_url: str | None, out: TextIO = sys.stdout) -> int:
    """Run ``job`` with ``dg launch``, print the summary; 0 if the run succeeded, else 1."""
    command = [executable("dg"), "launch", "--job", job, *(["--partition", partition] if partition else [])]
    since = datetime.now(timezone.utc)
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance, tempfile.TemporaryFile() as output:
        # In this folder, as the instance: dagster.yaml's storage paths are relative to it.
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        summary, run, cursor = RunSummary(out), None, None
        while True:
            exited = process.poll() is not None
            if run is None and (run := _launched_run(instance, job, since)) is not None:
                out.write(
                    f"Run {run.run_id} of {job}{f' for partition {partition}' if partition else ''} started\n"
                )
            if run is not None:
                cursor = _follow(instance, run.run_id, cursor, summary)
            if exited:
                break
            time.sleep(POLL_SECONDS)
        seconds = time.monotonic() - started
        if run is None:
            out.write(f"dg launch --job {job} ended without a run (exit {process.returncode}):\n")
            out.write(_output_tail(output))
            return 1
        run = instance.get_run_by_id(run.run_id)
        out.write(summary.result(run, seconds) + "\n")
        if summary.chart:
            out.write(f"Chart: {summary.chart}\n")
        if ui_url:
            out.write(f"Every event of the run: {ui_url.rstrip('/')}/runs/{run.run_id}\n")
        return 0 if run.status == dg.DagsterRunStatus.SUCCESS and process.returncode == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", required=True)
    parser.add_argument("--partition", help="partition key, e.g. 2013-03-01")
    parser.add_argument("--ui-url", help="where the UI will be, to link the run")
    options = parser.parse_args(argv)
    try:
        return launch(options.job, options.partition, options.ui_url)
    except KeyboardInterrupt:  # Ctrl-C reached dg launch too: its run stops, and so does this
        return 130


if __name__ == "__main__":
    sys.exit(main())
