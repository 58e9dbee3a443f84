"""The pipeline itself, materialized through Dagster: in process, or as a real run.

- ``in_process``: ``dagster.materialize()`` (an ephemeral instance, the in-process executor), as
  the tests do.
- ``run``: ``execute_job`` on a persistent DagsterInstance (``$DAGSTER_HOME``) with the code
  location's own default executor, as a run launched from the UI, a schedule or a sensor executes.
- ``multiprocess``: the same run with Dagster's stock default, the multiprocess executor (one
  process per step), selected in the run config.

``--job all`` builds every asset; ``--job monthly`` the partitioned ones only. Without
``--partition`` the partitioned assets cover all twelve months in one run (their single-run
backfill policy). Asset checks are not run, as the floor has no counterpart. Locations come from
the code location's environment variables (WAREHOUSE_PATH, LANDING_DIR, ...), so the resources are
exactly the deployed ones. Prints one JSON line: the run id and seconds per step; with
``PIPELINE_PROFILE`` set (``python -m bench.profile``) also each step's CPU seconds and the run's
bounds, read from a CPU clock sampled in this process (the in-process executors only).
"""

from __future__ import annotations

import argparse
import json
import os

import dagster as dg

from bench import pipeline_job
from bench.cpu_clock import CpuClock
from pipeline.definitions import defs
from pipeline.landing.timing import PROFILE_ENV

ALL_MONTHS = {
    "dagster/asset_partition_range_start": "2013-01-01",
    "dagster/asset_partition_range_end": "2013-12-01",
}
MULTIPROCESS = {"execution": {"config": {"multiprocess": {}}}}
JOBS = {
    "all": (pipeline_job.ALL_ASSETS_JOB, pipeline_job.all_assets_job),
    "monthly": (pipeline_job.MONTHLY_ASSETS_JOB, pipeline_job.monthly_assets_job),
}


def step_intervals(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """Each step's start and end (epoch seconds), as the run's events record them."""
    started: dict[str, float] = {}
    intervals: dict[str, tuple[float, float]] = {}
    steps = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
    for record in instance.get_records_for_run(run_id, of_type=steps, limit=1_000_000).records:
        event = record.event_log_entry
        if not event.is_dagster_event or event.step_key is None:
            continue
        if event.dagster_event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = event.timestamp
        elif event.dagster_event_type == dg.DagsterEventType.STEP_SUCCESS:
            intervals[event.step_key] = (started[event.step_key], event.timestamp)
    return intervals


def timings(instance: dg.DagsterInstance, run_id: str, clock: CpuClock | None) -> dict[str, object]:
    """Seconds per step; with a CPU clock (profiling) also each step's CPU and the run's bounds."""
    intervals = step_intervals(instance, run_id)
    found: dict[str, object] = {
        "run_id": run_id,
        "seconds_by_step": {step: end - start for step, (start, end) in intervals.items()},
    }
    if clock is not None:
        found["cpu_seconds_by_step"] = {
            step: clock.cpu_between(start, end) for step, (start, end) in intervals.items()
        }
        found["run"] = {
            "started": clock.walls[0],
            "ended": clock.walls[-1],
            "cpu_before": clock.cpus[0],
            "cpu_after": clock.cpus[-1],
        }
    return found


def _partition_tags(partition: str | None) -> dict[str, str]:
    return {"dagster/partition": partition} if partition else ALL_MONTHS


def _clock() -> CpuClock | None:
    """A running CPU clock when the landing is profiled (``PIPELINE_PROFILE`` set), else None."""
    if not os.environ.get(PROFILE_ENV):
        return None
    clock = CpuClock()
    clock.start()
    return clock


def run_in_process(job: str, partition: str | None) -> dict[str, object]:
    name, _ = JOBS[job]
    # The ephemeral instance materialize() would create itself, kept to read the step timings.
    with dg.DagsterInstance.ephemeral() as instance:
        clock = _clock()
        result = dg.materialize(
            list(defs.assets),
            resources=defs.resources,
            selection=pipeline_job.SELECTIONS[name],
            tags=_partition_tags(partition),
            instance=instance,
        )
        if clock is not None:
            clock.stop()
        if not result.success:
            raise RuntimeError(f"In-process run {result.run_id} failed.")
        return timings(instance, result.run_id, clock)


def run_job(job: str, partition: str | None, run_config: dict | None = None) -> dict[str, object]:
    _, factory = JOBS[job]
    with dg.DagsterInstance.get() as instance:
        clock = _clock()
        with dg.execute_job(
            dg.reconstructable(factory), instance, run_config=run_config, tags=_partition_tags(partition)
        ) as result:
            if clock is not None:
                clock.stop()
            if not result.success:
                raise RuntimeError(f"Run {result.run_id} failed; see {instance.root_directory}.")
            return timings(instance, result.run_id, clock)


def run_multiprocess(job: str, partition: str | None) -> dict[str, object]:
    return run_job(job, partition, MULTIPROCESS)


RUNNERS = {"in_process": run_in_process, "run": run_job, "multiprocess": run_multiprocess}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("how", choices=sorted(RUNNERS))
    parser.add_argument("--job", choices=sorted(JOBS), default="all")
    parser.add_argument("--partition", help="one month, e.g. 2013-01-01; default all twelve")
    args = parser.parse_args()
    print(json.dumps(RUNNERS[args.how](args.job, args.partition)))


if __name__ == "__main__":
    main()
