"""The benchmark's Markdown: the machine, a table per size, seconds per step, load and backfill."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import asdict, is_dataclass
from importlib import metadata
from pathlib import Path

GiB = 1 << 30


def _median(values) -> float:
    return statistics.median(values)


def machine_description() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    versions = ", ".join(
        f"{package} {metadata.version(package)}"
        for package in ("dagster", "dagster-duckdb", "duckdb", "pandas")
    )
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory {memory_kib / (1 << 20):.1f} GiB; {platform.platform()}",
        f"- Python {platform.python_version()}; {versions}",
        f"- load average at the end: {', '.join(f'{load:.2f}' for load in os.getloadavg())}",
    ]


def _by_variant(result: dict) -> dict[str, list]:
    by_variant: dict[str, list] = {}
    for run in result["runs"]:
        by_variant.setdefault(run.variant, []).append(run)
    return by_variant


def _ratio(value: float, reference: float | None) -> str:
    return f"{value / reference:.2f}" if reference else "—"


def size_table(result: dict) -> list[str]:
    """One row per variant: medians (the read limit: the mean of its runs before and after the
    others), and ratios to the floor and to the read limit."""
    rows = result["rows"]
    by_variant = _by_variant(result)

    def reference(variant: str, figure: str) -> float | None:
        runs = by_variant.get(variant)
        if not runs:
            return None
        # The read limit runs before and after the pipeline variants: their mean is the reference.
        average = statistics.mean if variant == "read_limit" else _median
        return average([getattr(r.measurement, figure) for r in runs])

    floor_wall, floor_cpu, floor_rss = (
        reference("floor", figure) for figure in ("wall_seconds", "cpu_seconds", "peak_rss_bytes")
    )
    limit_wall, limit_rss = (reference("read_limit", figure) for figure in ("wall_seconds", "peak_rss_bytes"))
    lines = [
        f"### {rows:,} flights rows ({result['landed_bytes'] / GiB:.2f} GiB landed), "
        f"median of {len(next(iter(by_variant.values())))}",
        "",
        "| variant | wall s | rows/s | CPU s | peak RSS GiB | peak PSS GiB | processes "
        "| × floor wall | × floor CPU | × floor RSS | × read limit wall | × read limit RSS | same tables |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for variant, runs in by_variant.items():
        average = statistics.mean if variant == "read_limit" else _median
        wall = average([r.measurement.wall_seconds for r in runs])
        cpu = average([r.measurement.cpu_seconds for r in runs])
        rss = average([r.measurement.peak_rss_bytes for r in runs])
        pss = average([r.measurement.peak_tree_pss_bytes for r in runs])
        processes = max(r.measurement.max_processes for r in runs)
        if any(r.matches_floor is None for r in runs):
            same = "—"  # the floor did not run: nothing to compare with
        else:
            same = "yes" if all(r.matches_floor for r in runs) else "NO"
        if variant == "read_limit" and same == "yes":
            same = "yes (raw)"
        lines.append(
            f"| {variant} | {wall:.1f} | {rows / wall:,.0f} | {cpu:.1f} | {rss / GiB:.2f} | {pss / GiB:.2f} "
            f"| {processes} | {_ratio(wall, floor_wall)} | {_ratio(cpu, floor_cpu)} | {_ratio(rss, floor_rss)} "
            f"| {_ratio(wall, limit_wall)} | {_ratio(rss, limit_rss)} | {same} |"
        )
    return lines + _bracket_lines(by_variant.get("read_limit", []))


def _bracket_lines(read_limit_runs: list) -> list[str]:
    """The read limit's runs before and after the pipeline variants, whose mean the ratios use."""
    brackets = {}
    for run in read_limit_runs:
        if run.bracket:
            brackets.setdefault(run.bracket, []).append(run.measurement)
    if set(brackets) != {"before", "after"}:
        return []
    before, after = (
        ", ".join(f"{m.wall_seconds:.1f} s / {m.peak_rss_bytes / GiB:.2f} GiB" for m in brackets[key])
        for key in ("before", "after")
    )
    return [
        "",
        f"The read limit ran before the pipeline variants ({before}) and after them ({after}), wall / "
        "peak RSS; its row and the × read limit ratios use the mean of all its runs.",
    ]


def step_table_name(step_key: str) -> str:
    """``staging__flights`` (a Dagster step) → ``staging.flights``; an op of a graph-backed asset,
    ``marts__weather_delay_model.weather_delay_moments`` → ``marts.weather_delay_moments``."""
    asset, _, op = step_key.partition(".")
    layer, _, name = asset.partition("__")
    return f"{layer}.{op or name}"


def seconds_by_table(details: dict) -> dict[str, float]:
    """A variant's own timings: per table (floor, read limit) or per Dagster step."""
    if "seconds_by_table" in details:
        return details["seconds_by_table"]
    return {step_table_name(key): value for key, value in details.get("seconds_by_step", {}).items()}


def steps_table(result: dict) -> list[str]:
    """Seconds per table (floor, read limit) or step (Dagster variants), medians over the rounds."""
    by_variant = _by_variant(result)
    timed = {
        variant: [seconds_by_table(run.details) for run in runs]
        for variant, runs in by_variant.items()
        if any(seconds_by_table(run.details) for run in runs)
    }
    names: list[str] = []
    for rounds in timed.values():
        for seconds in rounds:
            names += [name for name in seconds if name not in names]
    lines = [
        f"Seconds per step, {result['rows']:,} rows (floor and read limit: per table, its validation included)",
        "",
        "| step | " + " | ".join(timed) + " |",
        "| --- |" + " ---: |" * len(timed),
    ]
    for name in [*names, "sum of steps"]:
        cells = []
        for rounds in timed.values():
            values = [sum(s.values()) if name == "sum of steps" else s.get(name) for s in rounds]
            values = [value for value in values if value is not None]
            cells.append(f"{_median(values):.1f}" if values else "—")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def load_table(load: dict) -> list[str]:
    pipeline, empty = load["pipeline.definitions"], load["bench.empty_location"]
    pipeline_wall = _median(m.wall_seconds for m in pipeline)
    empty_wall = _median(m.wall_seconds for m in empty)
    pipeline_cpu = _median(m.cpu_seconds for m in pipeline)
    empty_cpu = _median(m.cpu_seconds for m in empty)
    return [
        f"### Code-location load: `dagster definitions validate`, median of {len(pipeline)}",
        "",
        "| module | wall s | CPU s |",
        "| --- | ---: | ---: |",
        f"| pipeline.definitions | {pipeline_wall:.2f} | {pipeline_cpu:.2f} |",
        f"| bench.empty_location (empty Definitions) | {empty_wall:.2f} | {empty_cpu:.2f} |",
        f"| ratio | {pipeline_wall / empty_wall:.2f} | {pipeline_cpu / empty_cpu:.2f} |",
    ]


def backfill_table(backfill: dict) -> list[str]:
    single = backfill["single_run"]
    per_month = backfill["per_partition_runs"]
    total_wall = sum(m.wall_seconds for m in per_month)
    total_cpu = sum(m.cpu_seconds for m in per_month)
    months = len(per_month)
    return [
        f"### Backfill of the monthly assets, {backfill['rows']:,} rows, runs with the code location's executor",
        "",
        "| how | wall s | CPU s |",
        "| --- | ---: | ---: |",
        f"| one run over all {months} months (single-run backfill policy) | {single.wall_seconds:.1f} | {single.cpu_seconds:.1f} |",
        f"| {months} runs, one month each | {total_wall:.1f} | {total_cpu:.1f} |",
        f"| overhead per partition run ((runs − single) / {months}) | "
        f"{(total_wall - single.wall_seconds) / months:.2f} | {(total_cpu - single.cpu_seconds) / months:.2f} |",
    ]


def jsonable(value):
    """The report as JSON: measurements and runs as dicts, without the processes' output."""
    if is_dataclass(value):
        data = asdict(value)
        data.get("measurement", data).pop("stdout", None)
        data.get("measurement", data).pop("stderr", None)
        return jsonable(data)
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value
