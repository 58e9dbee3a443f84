"""Month runs launched together against the same runs one at a time, on the production stack.

``python -m bench.concurrency --backend duckdb|ducklake [--rounds 1] [--months 6]``

Starts the stack as the tests do (``python -m deploy.stack up`` on a new PostgreSQL database,
pipeline_tests/stack_harness.py; on the lake also a new catalog database and two Celery workers on
Redis) under bench/work/concurrency/<stamp>/, with every sensor stopped. Seeds the landing folder,
runs ``full_refresh`` (timed), then in each round re-delivers ``--months`` months with a few
hundred rows fewer and times their ``monthly_refresh`` runs twice:

- parallel: all launched together through GraphQL (the run queue and the workers decide the rest);
- serial: the same months, re-delivered again, each run launched once the previous one ended.

A phase's wall time runs from its first launch to the last run's end as Dagster recorded it. The
rounds alternate which phase goes first, so a drifting machine load favours neither. Prints (and
saves as results.json beside the work) each round and the totals: the ratio parallel/serial (below
1: running together pays), failed runs, and the load average at start and end. Run it on a quiet
machine: beside other test suites the figures say little. The lake needs its environment:
``.venv-lake/bin/python -m bench.concurrency --backend ducklake``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from pipeline import constants
from pipeline.months import MonthKey

WORK = constants.PROJECT_ROOT / "bench" / "work" / "concurrency"
BACKENDS = ("duckdb", "ducklake")
PHASES = ("parallel", "serial")
REDIS = "redis://127.0.0.1:6379/0"
RUN_TIMES = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    ... on Runs { results { runId status startTime endTime tags { key value } } }
  }
}
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.concurrency", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=BACKENDS, default="duckdb")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of both phases (default 1)")
    parser.add_argument(
        "--months", type=int, default=6, help="months re-delivered per round, 1–6 (default 6)"
    )
    parser.add_argument("--work-dir", type=Path, default=WORK, help="where each invocation gets a folder")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not 1 <= args.months <= 6:
        parser.error("--months must be between 1 and 6")
    return args


def phase_order(number: int) -> tuple[str, str]:
    """Round ``number`` (from 1): odd rounds go parallel first, even rounds serial first."""
    return PHASES if number % 2 else PHASES[::-1]


def ratio(parallel_seconds: float, serial_seconds: float) -> float:
    """Parallel wall time over serial: 0.75 means the runs together took three quarters as long."""
    if serial_seconds <= 0 or parallel_seconds < 0:
        raise ValueError(f"wall times must be positive: parallel {parallel_seconds}, serial {serial_seconds}")
    return parallel_seconds / serial_seconds


def wall_seconds(runs: Sequence[Mapping], launched_at: float) -> float:
    """From the first launch (``time.time()``) to the last run's recorded end."""
    ends = [run["endTime"] for run in runs if run.get("endTime")]
    if len(ends) != len(runs):
        raise ValueError("every run must have ended")
    return max(ends) - launched_at


def totals(rounds: Sequence[Mapping]) -> dict:
    """Both phases summed over the rounds, their ratio, and the runs tried and failed in each."""
    result = {}
    for phase in PHASES:
        result[f"{phase}_seconds"] = round(sum(r[phase]["seconds"] for r in rounds), 1)
        result[f"{phase}_runs"] = sum(r[phase]["runs"] for r in rounds)
        result[f"{phase}_failed"] = sum(r[phase]["failed"] for r in rounds)
    result["ratio_parallel_to_serial"] = round(ratio(result["parallel_seconds"], result["serial_seconds"]), 3)
    return result


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(value, 2) for value in os.getloadavg()]


# --- on the stack ----------------------------------------------------------------------------


def _finished(handle, run_ids: Sequence[str]) -> list[dict]:
    handle.wait_for_runs(run_ids=run_ids, count=len(run_ids), timeout=3600)
    return handle.graphql(RUN_TIMES, {"filter": {"runIds": list(run_ids)}})["runsOrError"]["results"]


def _launch(handle, key: str, tag: str) -> str:
    return handle.launch_run("monthly_refresh", tags={"dagster/partition": key, "bench/phase": tag})


def run_phase(handle, phase: str, keys: Sequence[str], tag: str) -> dict:
    """The months' runs, together or one at a time; wall time, runs and failures."""
    from pipeline_tests import overlap

    overlap.redeliver(handle.landing_dir, keys)
    launched_at = time.time()
    if phase == "parallel":
        runs = _finished(handle, [_launch(handle, key, tag) for key in keys])
    else:
        runs = [run for key in keys for run in _finished(handle, [_launch(handle, key, tag)])]
    failed = sum(run["status"] != "SUCCESS" for run in runs)
    return {"seconds": round(wall_seconds(runs, launched_at), 1), "runs": len(runs), "failed": failed}


@contextlib.contextmanager
def stack(backend: str, root: Path) -> Iterator:
    """The production stack on ``backend`` under ``root``, sensors stopped; yields its handle."""
    from pipeline_tests import lake
    from pipeline_tests.stack_harness import running_stack

    with contextlib.ExitStack() as exit_stack:
        environment = {}
        if backend == "ducklake":
            catalog = exit_stack.enter_context(lake.lake_catalog("flights_bench"))
            environment = {
                **lake.lake_environment(catalog, root / "data" / "lake"),
                "DAGSTER_CELERY_BROKER_URL": REDIS,
                "DAGSTER_CELERY_BACKEND_URL": REDIS,
                "DAGSTER_CELERY_QUEUE": f"flights-bench-{secrets.token_hex(4)}",
            }
        handle = exit_stack.enter_context(running_stack(root, environment))
        handle.stop_running_sensors()
        yield handle


def main(argv: Sequence[str] | None = None) -> int:
    from pipeline.defs.raw import seed
    from pipeline_tests import overlap
    from pipeline_tests.support import ALL_MONTHS

    args = parse_args(argv)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    root = args.work_dir / f"{stamp}-{args.backend}"
    root.mkdir(parents=True)
    results: dict = {
        "started": stamp,
        "backend": args.backend,
        "cpus": os.cpu_count(),
        "load_at_start": load(),
    }
    with stack(args.backend, root) as handle:
        seed.seed(handle.landing_dir)
        started = time.time()
        (full,) = _finished(handle, [handle.launch_run("full_refresh", tags=ALL_MONTHS)])
        results["full_refresh"] = {
            "status": full["status"],
            "seconds": round(wall_seconds([full], started), 1),
        }
        if full["status"] != "SUCCESS":
            print(json.dumps(results, indent=2))
            return 1
        results["rounds"] = []
        for number in range(1, args.rounds + 1):
            keys = overlap.round_months(number)[: args.months]
            measured = {"months": [MonthKey.from_partition_key(key).label for key in keys]}
            for phase in phase_order(number):
                measured[phase] = run_phase(handle, phase, keys, f"{phase}-{number}")
                print(f"round {number} {phase}: {measured[phase]}", file=sys.stderr, flush=True)
            measured["ratio_parallel_to_serial"] = round(
                ratio(measured["parallel"]["seconds"], measured["serial"]["seconds"]), 3
            )
            results["rounds"].append(measured)
        results["totals"] = totals(results["rounds"])
        results["load_at_end"] = load()
    (root / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    failed = results["totals"]["parallel_failed"] + results["totals"]["serial_failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
