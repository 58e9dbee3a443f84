"""Where a real run's time goes: per Dagster step, and inside each raw load per landed file and phase.

``python -m bench.profile --rows 2000000`` lands the scaled data (as ``bench.run`` does, cached
under the work folder), then runs the pipeline as ``bench.run``'s ``dagster_run`` variant does (a
real run, the code location's in-process executor) with ``PIPELINE_PROFILE`` naming a file: the
landing's own code (``pipeline/landing/timing.py``) appends each phase it goes through (framing
scan, parse, value checks, key checks, insert, coverage, what changed, ...) with its wall and
process CPU seconds, and the run's process samples its CPU clock so each step's CPU is known
(``bench/cpu_clock.py``). Nothing is re-implemented: the figures are those of the code a run
executes. Three tables follow: the steps, with what the process spends before and after the run and
what the run spends between steps (Dagster's own share); each raw load's phases summed over its
files; and the flights' files one by one. ``bench.run --profile`` adds the same tables to its report.
Process CPU counts every thread, so a "cores" figure near 2 means both cores were busy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bench.report import step_table_name

PROFILE_FILE = "profile.jsonl"
MAIN_TABLE = "raw.flights"


def read_phases(path: Path) -> list[dict]:
    """The phases the landing recorded (one JSON object a line), or none if it recorded nothing."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def profile_of(details: dict, phases: list[dict], started: float, wall: float, cpu: float) -> dict:
    """One run's profile: the measured process (from outside), its steps and the landing's phases."""
    return {"started": started, "wall": wall, "cpu": cpu, "details": details, "phases": phases}


def _cores(wall: float, cpu: float) -> str:
    return f"{cpu / wall:.2f}" if wall > 0.005 else "—"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _row(name: str, walls: list[float], cpus: list[float], share_of: float | None = None) -> str:
    wall, cpu = _median(walls), _median(cpus)
    share = f" | {wall / share_of:.0%}" if share_of else (" | —" if share_of is not None else "")
    return f"| {name} | {wall:.2f} | {cpu:.2f} | {_cores(wall, cpu)}{share} |"


def _step_figures(profile: dict) -> dict[str, tuple[float, float]]:
    """Wall and CPU of the steps and of what lies around them, in the order they ran."""
    details, run = profile["details"], profile["details"].get("run")
    steps = {
        step_table_name(step): (wall, details.get("cpu_seconds_by_step", {}).get(step, 0.0))
        for step, wall in details["seconds_by_step"].items()
    }
    if run is None:
        return steps
    step_wall, step_cpu = (sum(figures[i] for figures in steps.values()) for i in (0, 1))
    run_wall, run_cpu = run["ended"] - run["started"], run["cpu_after"] - run["cpu_before"]
    ended = profile["started"] + profile["wall"]
    return {
        "before the run: process start, imports, code location, instance": (
            run["started"] - profile["started"],
            run["cpu_before"],
        ),
        **steps,
        "the run between its steps (Dagster: plan, events, handing over)": (
            run_wall - step_wall,
            run_cpu - step_cpu,
        ),
        "after the run: step records read, teardown, exit": (
            ended - run["ended"],
            profile["cpu"] - run["cpu_after"],
        ),
    }


def steps_table(profiles: list[dict]) -> list[str]:
    figures = [_step_figures(profile) for profile in profiles]
    total_wall = _median([profile["wall"] for profile in profiles])
    lines = [
        f"Profile of the run per step, median of {len(profiles)} (cores = CPU / wall; process CPU)",
        "",
        "| step | wall s | CPU s | cores | share of the wall |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in figures[0]:
        walls = [found[name][0] for found in figures if name in found]
        cpus = [found[name][1] for found in figures if name in found]
        lines.append(_row(name, walls, cpus, total_wall))
    lines.append(
        _row(
            "**whole process tree** (measured from outside)",
            [profile["wall"] for profile in profiles],
            [profile["cpu"] for profile in profiles],
            total_wall,
        )
    )
    return lines


def _summed(phases: list[dict], table: str, key: str) -> dict[str, dict[str, float]]:
    """Wall and CPU per ``key`` (phase or file) of ``table``'s phases, summed."""
    sums: dict[str, dict[str, float]] = {}
    for record in phases:
        if record.get("table") != table:
            continue
        found = sums.setdefault(record.get(key, "(whole load)"), {"wall": 0.0, "cpu": 0.0})
        found["wall"] += record["wall_seconds"]
        found["cpu"] += record["cpu_seconds"]
    return sums


def phases_table(profiles: list[dict]) -> list[str]:
    """Each raw load's phases summed over its files (phases of files checked at once may overlap)."""
    tables = list(dict.fromkeys(r["table"] for profile in profiles for r in profile["phases"]))
    lines = [
        f"Raw loads by phase, summed over their files, median of {len(profiles)} (wall s / CPU s)",
        "",
        "| phase | " + " | ".join(tables) + " |",
        "| --- |" + " ---: |" * len(tables),
    ]
    names = list(dict.fromkeys(r["phase"] for profile in profiles for r in profile["phases"]))
    summed = [{table: _summed(p["phases"], table, "phase") for table in tables} for p in profiles]
    for name in [*names, "step (Dagster's timing)"]:
        cells = []
        for table in tables:
            if name == "step (Dagster's timing)":
                walls = [_step_figures(p).get(table, (0.0, 0.0))[0] for p in profiles]
                cpus = [_step_figures(p).get(table, (0.0, 0.0))[1] for p in profiles]
            else:
                found = [s[table].get(name) for s in summed]
                walls = [f["wall"] for f in found if f]
                cpus = [f["cpu"] for f in found if f]
            cells.append(f"{_median(walls):.2f} / {_median(cpus):.2f}" if walls else "—")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def files_table(profiles: list[dict], table: str = MAIN_TABLE) -> list[str]:
    """Wall seconds of each of ``table``'s files per phase (the first profile), with its CPU in all."""
    phases = [r for r in profiles[0]["phases"] if r.get("table") == table and "file" in r]
    if not phases:
        return []
    names = list(dict.fromkeys(r["phase"] for r in phases))
    files = list(dict.fromkeys(r["file"] for r in phases))
    lines = [
        f"{table} per landed file: wall s per phase (one run), and the file's wall and CPU in all",
        "",
        "| file | " + " | ".join(names) + " | wall s | CPU s | cores |",
        "| --- |" + " ---: |" * (len(names) + 3),
    ]
    for file in files:
        of_file = [r for r in phases if r["file"] == file]
        wall = sum(r["wall_seconds"] for r in of_file)
        cpu = sum(r["cpu_seconds"] for r in of_file)
        cells = [f"{sum(r['wall_seconds'] for r in of_file if r['phase'] == n):.2f}" for n in names]
        lines.append(
            f"| {file} | " + " | ".join(cells) + f" | {wall:.2f} | {cpu:.2f} | {_cores(wall, cpu)} |"
        )
    return lines


def profile_tables(profiles: list[dict]) -> list[str]:
    return [*steps_table(profiles), "", *phases_table(profiles), "", *files_table(profiles)]


def main(argv: list[str] | None = None) -> int:
    from bench import generate
    from bench.run import DEFAULT_WORK_DIR
    from bench.variants import profiled_runs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="flights rows (default 2,000,000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the tables show medians")
    parser.add_argument("--variant", choices=["dagster_run", "dagster_in_process"], default="dagster_run")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    args = parser.parse_args(argv)
    profiles = profiled_runs(args.work_dir.resolve(), args.rows, args.seed, args.variant, args.repeat)
    markdown = "\n".join(
        [f"## Profile, {args.rows:,} flights rows, {args.variant}", "", *profile_tables(profiles)]
    )
    results_dir = args.work_dir.resolve() / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = results_dir / f"profile_{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"
    stem.with_suffix(".md").write_text(markdown + "\n")
    stem.with_suffix(".json").write_text(json.dumps(profiles, indent=2))
    print(markdown)
    print(f"Saved {stem}.md and {stem}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
