"""Running one variant of the benchmark in its own measured process, with the code location's
locations inside the variant's folder (and, profiled, the landing's phases recorded)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from bench import profile, read_limit
from bench.landing_data import prepare_landing, warm_page_cache
from bench.measure import Measurement, measure
from deploy import local_instance
from pipeline import constants
from pipeline.landing.timing import PROFILE_ENV

REPO_ROOT = Path(__file__).resolve().parent.parent


class BenchmarkFailed(RuntimeError):
    """A variant failed or built different tables from the floor."""


def _pipeline_environment(run_dir: Path, landing_dir: Path) -> dict[str, str]:
    """The code location's locations, all inside ``run_dir`` except the landed data."""
    home = local_instance.write_dagster_home(run_dir / "dagster_home")
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "DAGSTER_HOME": str(home),
        constants.WAREHOUSE_PATH_ENV: str(run_dir / "warehouse.duckdb"),
        constants.LANDING_DIR_ENV: str(landing_dir),
        constants.QUARANTINE_DIR_ENV: str(run_dir / "quarantine"),
        constants.ARCHIVE_DIR_ENV: str(run_dir / "archive"),
        constants.REPORT_DIR_ENV: str(run_dir / "reports"),
        constants.EXPORT_DIR_ENV: str(run_dir / "exports"),
        constants.BACKUP_DIR_ENV: str(run_dir / "backups"),
        constants.ALERT_LOG_PATH_ENV: str(run_dir / "alerts.log"),
    }


def variant_command(variant: str, run_dir: Path, landing_dir: Path, *extra: str) -> list[str]:
    python = sys.executable
    database = str(run_dir / "warehouse.duckdb")
    if variant == "read_limit":  # its process imports nothing of the pipeline: the plan is written here
        plan = read_limit.write_plan(run_dir / "read_limit_plan.json", landing_dir)
        return [python, "-m", "bench.read_limit", "--database", database, "--plan", str(plan)]
    files = ["--database", database, "--landing-dir", str(landing_dir)]
    return {
        "floor": [python, "-m", "bench.floor", *files],
        "pandas": [python, "-m", "bench.pandas_baseline", *files],
        "dagster_in_process": [python, "-m", "bench.dagster_runs", "in_process", *extra],
        "dagster_run": [python, "-m", "bench.dagster_runs", "run", *extra],
        "dagster_multiprocess": [python, "-m", "bench.dagster_runs", "multiprocess", *extra],
    }[variant]


def run_measured(
    variant: str, run_dir: Path, landing_dir: Path, *extra: str, profiled: bool = False
) -> tuple[Measurement, dict]:
    """Run the variant in its own measured process; ``profiled``: its details carry the profile."""
    env = _pipeline_environment(run_dir, landing_dir)
    phases_path = run_dir / profile.PROFILE_FILE
    if profiled:
        run_dir.mkdir(parents=True, exist_ok=True)
        phases_path.unlink(missing_ok=True)
        env[PROFILE_ENV] = str(phases_path)
    started = time.time()
    measurement = measure(variant_command(variant, run_dir, landing_dir, *extra), env=env, cwd=REPO_ROOT)
    if measurement.returncode != 0:
        raise BenchmarkFailed(
            f"{variant} {' '.join(extra)} exited with {measurement.returncode}:\n{measurement.stderr[-4000:]}"
        )
    details = json.loads(measurement.stdout.strip().splitlines()[-1])
    if profiled:
        details["profile"] = profile.profile_of(
            dict(details),  # a copy: the profile holds the details, and the details the profile
            profile.read_phases(phases_path),
            started,
            measurement.wall_seconds,
            measurement.cpu_seconds,
        )
    return measurement, details


def profiled_runs(work_dir: Path, rows: int, seed: int, variant: str, repeat: int) -> list[dict]:
    """``repeat`` profiled runs of ``variant`` on the size's landed data (``python -m bench.profile``)."""
    size_dir = work_dir / f"rows_{rows}"
    landing_dir = prepare_landing(size_dir, rows, seed)
    warm_page_cache(landing_dir)
    profiles = []
    for _ in range(repeat):
        run_dir = size_dir / "runs" / f"{variant}_profile"
        shutil.rmtree(run_dir, ignore_errors=True)
        _, details = run_measured(variant, run_dir, landing_dir, profiled=True)
        profiles.append(details["profile"])
        shutil.rmtree(run_dir, ignore_errors=True)
    return profiles
