"""The DuckLake backend against the DuckDB file, and duckdb 1.5.5 (pinned for it) against 2.0.1.

``python -m bench.lake --rows 5000000`` measures, on the landed data that ``bench.run`` generates
(cached under bench/work/), each part in its own process from outside (``bench.measure``):

- ``floor`` (the pipeline's SQL on one DuckDB connection) with this environment's duckdb and with
  the duckdb of ``--other-python`` (a venv with duckdb 2.0.1): the cost of the pin;
- every asset in one in-process run (``bench.dagster_runs in_process``) on the file and on a
  DuckLake lake (catalog in a fresh PostgreSQL database on 127.0.0.1, data in a folder);
- the monthly assets for twelve months as twelve one-month runs: serialized on the file (what its
  lock makes of concurrent runs) and started all at once on the lake.

Prints Markdown (the figures recorded in bench/RESULTS.md) and saves it with the raw figures as
JSON under ``<work-dir>/results/``.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import psycopg2
from psycopg2 import sql

from bench import generate
from bench.floor import MONTH_KEYS
from bench.landing_data import prepare_landing, warm_page_cache
from bench.measure import Measurement, measure
from bench.run import (
    DEFAULT_WORK_DIR,
    REPO_ROOT,
    machine_description,
)
from bench.variants import _pipeline_environment
from pipeline import constants

GiB = 1 << 30
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def _admin(statement: sql.Composable) -> None:
    conn = psycopg2.connect(dbname="postgres", **PG)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
    finally:
        conn.close()


def lake_environment(run_dir: Path, landing_dir: Path, database: str) -> dict[str, str]:
    return {
        **_pipeline_environment(run_dir, landing_dir),
        constants.WAREHOUSE_BACKEND_ENV: "ducklake",
        constants.DUCKLAKE_CATALOG_ENV: f"dbname={database} host={PG['host']} port={PG['port']} user={PG['user']}",
        constants.DUCKLAKE_DATA_PATH_ENV: str(run_dir / "lake"),
    }


def _checked(measurement: Measurement, what: str) -> Measurement:
    if measurement.returncode != 0:
        raise RuntimeError(f"{what} exited with {measurement.returncode}:\n{measurement.stderr[-3000:]}")
    print(
        f"{what}: {measurement.wall_seconds:.1f} s wall, {measurement.cpu_seconds:.1f} s CPU, "
        f"peak RSS {measurement.peak_rss_bytes / GiB:.2f} GiB",
        flush=True,
    )
    return measurement


def run_all(env: dict[str, str], what: str) -> Measurement:
    command = [sys.executable, "-m", "bench.dagster_runs", "in_process"]
    return _checked(measure(command, env=env, cwd=REPO_ROOT), what)


def months(env: dict[str, str], concurrent: bool, what: str) -> Measurement:
    """The twelve one-month runs of the monthly assets, one after another or all at once."""
    runs = [
        f"{sys.executable} -m bench.dagster_runs run --job monthly --partition {key} >/dev/null"
        for key in MONTH_KEYS
    ]
    # A fresh SQLite instance created by twelve processes at once gets two schema heads: create it first.
    init = [sys.executable, "-c", "import dagster as dg; dg.DagsterInstance.get().dispose()"]
    subprocess.run(init, env=env, cwd=REPO_ROOT, check=True, capture_output=True)
    if concurrent:  # every exit status is collected: a bare `wait` forgets failures
        script = " ".join(f'{run} & pids="$pids $!";' for run in runs)
        script = f'pids=; {script} for p in $pids; do wait "$p" || exit 1; done'
    else:
        script = " && ".join(runs)
    return _checked(measure(["bash", "-c", script], env=env, cwd=REPO_ROOT), what)


def floor(python: str, run_dir: Path, landing_dir: Path, what: str) -> Measurement:
    run_dir.mkdir(parents=True, exist_ok=True)
    database = run_dir / "warehouse.duckdb"
    database.unlink(missing_ok=True)
    command = [python, "-m", "bench.floor", "--database", str(database), "--landing-dir", str(landing_dir)]
    env = {"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    return _checked(measure(command, env=env, cwd=REPO_ROOT), what)


def duckdb_version(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import duckdb; print(duckdb.__version__)"], capture_output=True, text=True, check=True
    ).stdout.strip()


TABLE_HEADER = (
    "| what | wall s | CPU s | peak RSS GiB | processes | × first row wall |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: |"
)


def row(label: str, m: Measurement, base: Measurement | None = None) -> str:
    ratio = f"{m.wall_seconds / base.wall_seconds:.2f}" if base else "1.00"
    return (
        f"| {label} | {m.wall_seconds:.1f} | {m.cpu_seconds:.1f} | {m.peak_rss_bytes / GiB:.2f} "
        f"| {m.max_processes} | {ratio} |"
    )


def comparison(title: str, first: tuple[str, Measurement], second: tuple[str, Measurement]) -> list[str]:
    """A markdown section of two measured rows, the second's wall time also as a multiple of the first's."""
    (first_label, base), (second_label, m) = first, second
    return [f"### {title}", "", TABLE_HEADER, row(first_label, base), row(second_label, m, base), ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--other-python", help="a Python whose duckdb is compared with this one's (floor)")
    args = parser.parse_args(argv)

    size_dir = args.work_dir.resolve() / f"rows_{args.rows}"
    landing_dir = prepare_landing(size_dir, args.rows, args.seed)
    warm_page_cache(landing_dir)
    runs = size_dir / "runs" / "lake"
    shutil.rmtree(runs, ignore_errors=True)
    figures: dict[str, Measurement] = {}
    sections = []

    if args.other_python:
        ours, other = duckdb_version(sys.executable), duckdb_version(args.other_python)
        figures[f"floor duckdb {ours}"] = floor(sys.executable, runs / "floor-ours", landing_dir, "floor")
        figures[f"floor duckdb {other}"] = floor(
            args.other_python, runs / "floor-other", landing_dir, "floor"
        )
        a, b = figures[f"floor duckdb {other}"], figures[f"floor duckdb {ours}"]
        sections += comparison(
            f"The floor, duckdb {other} vs {ours}", (f"duckdb {other}", a), (f"duckdb {ours}", b)
        )

    database = f"bench_lake_{secrets.token_hex(4)}"
    _admin(sql.SQL("create database {}").format(sql.Identifier(database)))
    try:
        file_env = _pipeline_environment(runs / "file", landing_dir)
        lake_env = lake_environment(runs / "lake", landing_dir, database)
        figures["all assets, file"] = run_all(file_env, "file backend")
        figures["all assets, lake"] = run_all(lake_env, "lake backend")
        sections += comparison(
            "Every asset in one in-process run",
            ("DuckDB file", figures["all assets, file"]),
            ("DuckLake (PostgreSQL catalog, local Parquet)", figures["all assets, lake"]),
        )
        figures["12 months serialized, file"] = months(file_env, concurrent=False, what="file months")
        figures["12 months concurrent, lake"] = months(lake_env, concurrent=True, what="lake months")
        sections += comparison(
            "Twelve one-month runs of the monthly assets",
            ("file: one after another", figures["12 months serialized, file"]),
            ("lake: all twelve at once", figures["12 months concurrent, lake"]),
        )
    finally:
        _admin(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database)))

    started = datetime.now(timezone.utc)
    markdown = "\n".join(
        [
            f"## DuckLake benchmark {started:%Y-%m-%d %H:%M} UTC, {args.rows:,} rows",
            "",
            *machine_description(),
            "",
            *sections,
        ]
    )
    results = args.work_dir.resolve() / "results"
    results.mkdir(parents=True, exist_ok=True)
    stem = results / f"lake-{started:%Y%m%dT%H%M%S}"
    stem.with_suffix(".md").write_text(markdown + "\n")
    raw = {
        key: {k: v for k, v in asdict(m).items() if k not in ("stdout", "stderr")}
        for key, m in figures.items()
    }
    stem.with_suffix(".json").write_text(json.dumps(raw, indent=2))
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
