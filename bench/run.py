"""The benchmark, in one command: the pipeline against raw DuckDB and a pandas path, at several sizes.

For each size the generator lands the scaled data once (cached under the work folder), the landed
files are read once so every variant finds them in the page cache, and then each variant runs in
its own process, one after another, measured from outside (``bench.measure``: wall time, CPU time
of the whole process tree, peak RSS and PSS of the tree):

  floor                 the pipeline's SQL files on one DuckDB connection (``bench.floor``)
  read_limit            DuckDB reading every landed file once into a table, nothing else
                        (``bench.read_limit``): the physical floor for this data
  dagster_in_process    ``dagster.materialize()`` of every asset (``bench.dagster_runs``)
  dagster_run           a real run on a temporary DagsterInstance, the code location's executor
  dagster_multiprocess  the same run with Dagster's stock multiprocess executor (a process per step)
  pandas                the floor's SQL with every table fetched into pandas and written back

Every variant must build the same tables: row counts of every table and the contents of the marts
are compared with the floor's (for the read limit: the raw tables'), and the command fails if they
differ. Each variant is reported with its ratios to the floor and to the read limit; when other
variants run too, the read limit runs before and after them in each round (``bracketed``) and the
ratios use the mean of its runs, so a machine that slows down meanwhile shows. ``--profile`` adds,
for the in-process Dagster variants, each step's and each raw-load phase's wall and CPU seconds
(``bench.profile``). ``--load`` also times
``dagster definitions validate`` on the code location against an empty Definitions, and
``--backfill`` times the monthly assets rebuilt for all twelve months in one run against twelve
one-month runs. Results are printed as Markdown and saved (with every raw figure as JSON) under
``<work-dir>/results/``.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench import generate, profile
from bench.compare import differences, warehouse_fingerprint
from bench.floor import MONTH_KEYS
from bench.landing_data import prepare_landing, warm_page_cache
from bench.measure import Measurement, measure
from bench.report import (
    GiB,
    backfill_table,
    jsonable,
    load_table,
    machine_description,
    size_table,
    steps_table,
)
from bench.variants import REPO_ROOT, BenchmarkFailed, run_measured

DEFAULT_WORK_DIR = REPO_ROOT / "bench" / "work"
DEFAULT_SIZES = [generate.REAL_FLIGHT_ROWS, 5_000_000, 20_000_000]
# The floor runs first: every other variant's tables are compared with its.
VARIANTS = ["floor", "read_limit", "dagster_in_process", "dagster_run", "dagster_multiprocess", "pandas"]
PROFILED_VARIANTS = ("dagster_in_process", "dagster_run")  # their steps run in the measured process


@dataclass
class VariantRun:
    variant: str
    measurement: Measurement
    details: dict
    row_counts: dict[str, int]
    matches_floor: bool | None = None
    differences: list[str] = field(default_factory=list)
    bracket: str = ""  # the read limit: "before" or "after" the pipeline variants
    profile: dict | None = None


def bracketed(variants: list[str]) -> list[tuple[str, str]]:
    """The order of one round: the floor first (the reference), and the read limit both before and
    after the pipeline variants when there are any, so a machine that slows down meanwhile shows."""
    others = [variant for variant in variants if variant not in ("floor", "read_limit")]
    order = [("floor", "")] if "floor" in variants else []
    if "read_limit" not in variants:
        return order + [(variant, "") for variant in others]
    if not others:
        return [*order, ("read_limit", "")]
    return [*order, ("read_limit", "before"), *((v, "") for v in others), ("read_limit", "after")]


# --- the measurements -------------------------------------------------------------------------------


def benchmark_size(
    work_dir: Path, rows: int, seed: int, variants: list[str], repeat: int, keep: bool, profiled: bool
) -> dict:
    size_dir = work_dir / f"rows_{rows}"
    started = time.perf_counter()
    landing_dir = prepare_landing(size_dir, rows, seed)
    print(
        f"[{rows:,} rows] landing ready in {time.perf_counter() - started:.0f} s: {landing_dir}", flush=True
    )
    landed_bytes = warm_page_cache(landing_dir)
    floor_fingerprint = None
    runs: list[VariantRun] = []
    for round_number in range(repeat):
        for variant, bracket in bracketed(variants):
            run_dir = size_dir / "runs" / variant
            shutil.rmtree(run_dir, ignore_errors=True)
            measurement, details = run_measured(
                variant, run_dir, landing_dir, profiled=profiled and variant in PROFILED_VARIANTS
            )
            fingerprint = warehouse_fingerprint(run_dir / "warehouse.duckdb")
            row_counts = {
                key.removesuffix(" rows"): value
                for key, value in fingerprint.items()
                if key.endswith(" rows")
            }
            run = VariantRun(
                variant,
                measurement,
                details,
                row_counts,
                bracket=bracket,
                profile=details.pop("profile", None),
            )
            if variant == "floor":
                floor_fingerprint = fingerprint
            if floor_fingerprint is not None:
                run.differences = differences(floor_fingerprint, fingerprint, variant)
                run.matches_floor = not run.differences
            runs.append(run)
            print(
                f"[{rows:,} rows] round {round_number + 1}/{repeat} {variant}{f' ({bracket})' if bracket else ''}: "
                f"{measurement.wall_seconds:.1f} s wall, {measurement.cpu_seconds:.1f} s CPU, "
                f"peak RSS {measurement.peak_rss_bytes / GiB:.2f} GiB"
                + ("" if run.matches_floor in (True, None) else f" — DIFFERS: {run.differences[:3]}"),
                flush=True,
            )
            if not keep:
                shutil.rmtree(run_dir, ignore_errors=True)
    return {"rows": rows, "landed_bytes": landed_bytes, "runs": runs}


def profile_sections(result: dict) -> list[str]:
    """The profile tables of each profiled variant (``--profile``), medians over its rounds."""
    lines: list[str] = []
    for variant in PROFILED_VARIANTS:
        profiles = [run.profile for run in result["runs"] if run.variant == variant and run.profile]
        if profiles:
            lines += [f"#### {variant}", "", *profile.profile_tables(profiles), ""]
    return lines


def measure_load(repeats: int) -> dict:
    """``dagster definitions validate`` on the code location and on an empty Definitions, alternated.

    Both load from bytecode, as an installed code location does: pip compiles Dagster's modules
    when it installs them, and Python writes the project's on first import, unless
    PYTHONDONTWRITEBYTECODE is set (as on some CI machines) — then only the project's modules
    would be compiled again on every load, ~0.06 s that no deployed location pays."""
    for package in ("pipeline", "bench"):
        compileall.compile_dir(REPO_ROOT / package, quiet=1)
    results: dict[str, list[Measurement]] = {"pipeline.definitions": [], "bench.empty_location": []}
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    dagster = str(Path(sys.executable).with_name("dagster"))
    for _ in range(repeats):
        for module in results:
            measurement = measure([dagster, "definitions", "validate", "-m", module], env=env, cwd=REPO_ROOT)
            if measurement.returncode != 0:
                raise BenchmarkFailed(
                    f"definitions validate -m {module} failed:\n{measurement.stderr[-2000:]}"
                )
            results[module].append(measurement)
    return results


def measure_backfill(work_dir: Path, rows: int, seed: int) -> dict:
    """The monthly assets for all months: one run over the range, then one run per month."""
    size_dir = work_dir / f"rows_{rows}"
    landing_dir = prepare_landing(size_dir, rows, seed)
    warm_page_cache(landing_dir)
    run_dir = size_dir / "runs" / "backfill"
    shutil.rmtree(run_dir, ignore_errors=True)
    # Every asset built once, so the monthly runs replace stored months as a real backfill does.
    run_measured("dagster_in_process", run_dir, landing_dir)
    single, _ = run_measured("dagster_run", run_dir, landing_dir, "--job", "monthly")
    per_month = [
        run_measured("dagster_run", run_dir, landing_dir, "--job", "monthly", "--partition", key)[0]
        for key in MONTH_KEYS
    ]
    shutil.rmtree(run_dir, ignore_errors=True)
    return {"rows": rows, "single_run": single, "per_partition_runs": per_month}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, action="append", help=f"flights rows; repeatable (default {DEFAULT_SIZES})"
    )
    parser.add_argument("--no-sizes", action="store_true", help="only the --load / --backfill parts")
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="repeatable; default all")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per size; the tables show medians")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument(
        "--load", type=int, default=0, metavar="N", help="also time definitions validate N times"
    )
    parser.add_argument("--backfill", type=int, metavar="ROWS", help="also time a backfill at this size")
    parser.add_argument("--keep", action="store_true", help="keep each variant's warehouse and instance")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the in-process Dagster variants per step, raw-load phase and file (bench.profile)",
    )
    args = parser.parse_args(argv)

    work_dir = args.work_dir.resolve()
    variants = [variant for variant in VARIANTS if variant in (args.variant or VARIANTS)]
    started_at = datetime.now(timezone.utc)
    report = {"command": " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])])}
    sections: list[str] = []
    failures: list[str] = []
    for rows in [] if args.no_sizes else args.rows or DEFAULT_SIZES:
        result = benchmark_size(work_dir, rows, args.seed, variants, args.repeat, args.keep, args.profile)
        report.setdefault("sizes", []).append(result)
        sections += [*size_table(result), "", *steps_table(result), "", *profile_sections(result)]
        failures += [f"{rows:,} rows, {run.variant}: {d}" for run in result["runs"] for d in run.differences]
    if args.load:
        report["load"] = measure_load(args.load)
        sections += [*load_table(report["load"]), ""]
    if args.backfill:
        report["backfill"] = measure_backfill(work_dir, args.backfill, args.seed)
        sections += [*backfill_table(report["backfill"]), ""]

    markdown = "\n".join(
        [
            f"## Benchmark run {started_at:%Y-%m-%d %H:%M} UTC",
            "",
            f"`{report['command']}`",
            "",
            *machine_description(),
            "",
            *sections,
        ]
    )
    results_dir = work_dir / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = results_dir / f"{started_at:%Y%m%dT%H%M%S}"
    stem.with_suffix(".md").write_text(markdown + "\n")
    stem.with_suffix(".json").write_text(json.dumps(jsonable(report), indent=2, default=str))
    print(markdown)
    print(f"Saved {stem}.md and {stem}.json")
    if failures:
        print("Variants built different tables from the floor:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
