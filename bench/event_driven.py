"""The event-driven path as a user meets it: `dg dev`, files dropped, the report refreshed.

``python -m bench.event_driven [--scenario NAME ...] [--stack dev|production] [--quiet-seconds 60]``

Each instance is temporary (SQLite under bench/work/event_driven/<stamp>/), with its own warehouse,
landing folder and `dg dev -w workspace.yaml` started as its own process group
(deploy/processes.py) — or, with ``--stack production``, ``python -m deploy.stack`` on a new
PostgreSQL database. Files are delivered as upstream does (written under a temporary name,
renamed); times and run counts are read through the webserver's GraphQL API. Scenarios:

- ``quickstart``: what deploy/quickstart.sh does — seed the landing folder, ``dg launch --job
  full_refresh`` (timed: the baseline), then `dg dev`; runs launched in its first 90 s.
- ``correction`` (same instance, once it is quiet): a corrected flights_2013-03.csv; seconds until
  the report is materialized again, and runs.
- ``empty_landing`` (new instance): all 27 files into an empty landing folder; seconds until the
  report, and runs, against full_refresh's time on the same files (timed again at the end).
- ``paused_writer`` (the empty_landing instance): flights_2013-04.csv rewritten in place, pausing
  at 0 bytes and mid-line for --pause-seconds each; was it quarantined, did the new content load.

A scenario ends once nothing has run for --quiet-seconds, so runs that automation starts late are
counted too. Prints one JSON document, also saved as results.json beside the work.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

from deploy import health, local_instance, postgres, processes
from pipeline import constants
from pipeline.defs.raw import seed

PROJECT_ROOT = constants.PROJECT_ROOT
WORK = PROJECT_ROOT / "bench" / "work" / "event_driven"
DG = str(Path(sys.executable).parent / "dg")
REPORT = ["reports", "carrier_on_time"]
IN_PROGRESS = {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"}
SCENARIOS = ("quickstart", "correction", "empty_landing", "paused_writer")

RUNS = """query Runs($filter: RunsFilter) { runsOrError(filter: $filter, limit: 1000) {
  ... on Runs { results { runId jobName status creationTime startTime endTime
    tags { key value } assetSelection { path } } } } }"""
MATERIALIZATIONS = """query Mat($key: AssetKeyInput!, $partitions: [String!]) {
  assetOrError(assetKey: $key) { ... on Asset {
    assetMaterializations(limit: 1, partitions: $partitions) { timestamp runId
      metadataEntries { label ... on JsonMetadataEntry { jsonString } } } } } }"""


def load() -> str:  # the 1, 5 and 15 minute load averages, as uptime shows them
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Dev:
    """`dg dev -w workspace.yaml` on a temporary instance, warehouse and landing folder."""

    name = "dg dev (SQLite)"

    def __init__(self, root: Path):
        self.root = root
        self.landing = root / "landing"
        self.landing.mkdir(parents=True, exist_ok=True)
        home = local_instance.write_dagster_home(root / "dagster_home")
        self.env = {k: v for k, v in os.environ.items() if k != constants.ALERT_WEBHOOK_URL_ENV}
        self.env["DAGSTER_HOME"] = str(home)
        for name, variable in vars(constants).items():
            if name.endswith("_ENV") and variable.endswith(("_DIR", "_PATH")):
                self.env[variable] = str(root / variable.rsplit("_", 1)[0].lower())
        self.env |= {
            constants.LANDING_DIR_ENV: str(self.landing),
            "WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        }
        self.port = processes.free_port()
        self.url = f"http://{processes.LOOPBACK}:{self.port}"

    def full_refresh(self) -> float:
        started, command = time.monotonic(), [DG, "launch", "--job", "full_refresh"]
        done = subprocess.run(command, cwd=PROJECT_ROOT, env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, f"full_refresh failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        return time.monotonic() - started

    def start(self) -> float:
        started = time.time()
        command = [DG, "dev", "-w", "workspace.yaml", "--host", processes.LOOPBACK, "--port", str(self.port)]
        self.process = processes.start(command, log=self.root / "dg_dev.log", cwd=PROJECT_ROOT, env=self.env)
        up = lambda: health.webserver(self.url, "flights")[0] and health.daemon(self.url, started)[0]  # noqa: E731
        assert processes.wait_until(up, 300, 1), f"dg dev did not come up; see {self.root / 'dg_dev.log'}"
        return started

    def stop(self) -> None:
        processes.stop(self.process, grace=30, ports=[self.port])

    def runs(self, created_after: float = 0.0) -> list[dict]:
        data = health.graphql(self.url, RUNS, {"filter": {"createdAfter": created_after}})
        return sorted(data["runsOrError"]["results"], key=lambda run: run["creationTime"])

    def materialization(self, key: list[str], partition: str | None = None) -> dict | None:
        variables = {"key": {"path": key}, "partitions": [partition] if partition else None}
        found = health.graphql(self.url, MATERIALIZATIONS, variables)["assetOrError"]["assetMaterializations"]
        return found[0] if found else None

    def report_after(self, since: float) -> float | None:
        latest = self.materialization(REPORT)
        return int(latest["timestamp"]) / 1000 if latest and int(latest["timestamp"]) / 1000 > since else None

    def wait_quiet(self, since: float, quiet: float, done=lambda: True, limit: float = 900) -> list[dict]:
        """Runs created after ``since``, once ``done()`` and nothing ran for ``quiet`` seconds."""
        deadline = time.time() + limit
        while time.time() < deadline:
            runs = self.runs(since)
            last = max([since, *(r["creationTime"] for r in runs), *(r["endTime"] or 0 for r in runs)])
            busy = any(r["status"] in IN_PROGRESS for r in runs)
            if not busy and time.time() - last >= quiet and done():
                return runs
            time.sleep(1)
        raise TimeoutError(f"not quiet within {limit} s: {self.root}")


class Production(Dev):
    """The production stack: `python -m deploy.stack up` (code server, webserver, daemon) on a new
    PostgreSQL database of the local server (DAGSTER_PG_* defaults), dropped afterwards."""

    name = "python -m deploy.stack (PostgreSQL)"

    def __init__(self, root: Path):
        super().__init__(root)
        self.home = Path(self.env["DAGSTER_HOME"])
        database = f"bench_{root.parent.name}_{root.name}".lower()
        self.env |= {**postgres.DEFAULTS, "DAGSTER_PG_DB": database, "DAGSTER_DISABLE_TELEMETRY": "1"}
        (self.home / "dagster.yaml").write_text((PROJECT_ROOT / "deploy" / "dagster.yaml").read_text())
        postgres.ensure_database(self.env)  # before full_refresh, which the quick start runs first
        self.grpc_port = processes.free_port()

    def _stack(self, *action: str) -> None:
        command = [sys.executable, "-m", "deploy.stack", *action, "--home", str(self.home)]
        subprocess.run(command, cwd=PROJECT_ROOT, env=self.env, check=True, stdout=subprocess.DEVNULL)

    def start(self) -> float:
        started = time.time()  # `up` returns once every part is healthy
        self._stack("up", "--grpc-port", str(self.grpc_port), "--webserver-port", str(self.port))
        return started

    def stop(self) -> None:
        self._stack("down")
        connection = {k: self.env[f"DAGSTER_PG_{k.upper()}"] for k in ("host", "port", "user", "password")}
        conn = psycopg2.connect(**connection, dbname="postgres")
        conn.autocommit = True  # DROP DATABASE runs outside a transaction
        conn.cursor().execute(f'drop database if exists "{self.env["DAGSTER_PG_DB"]}"')
        conn.close()


def deliver(source: Path, landing: Path, content: bytes | None = None) -> None:
    partial = landing / (source.name + ".part")
    partial.write_bytes(source.read_bytes() if content is None else content)
    partial.replace(landing / source.name)


def summary(runs: list[dict]) -> list[dict]:
    """Per run: job, status, who launched it, months, number of assets, seconds."""
    rows = []
    for run in runs:
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        months = [tags.get(f"dagster/asset_partition_range_{end}") for end in ("start", "end")]
        took = run["endTime"] - run["startTime"] if run["endTime"] and run["startTime"] else None
        rows.append({
            "job": run["jobName"], "status": run["status"], "by": tags.get("dagster/sensor_name") or tags.get("dagster/schedule_name", "user"),
            "partition": tags.get("dagster/partition") or "…".join(filter(None, months)) or None,
            "assets": len(run["assetSelection"] or []), "seconds": None if took is None else round(took, 1),
        })  # fmt: skip
    return rows


def until_report(dev: Dev, dropped: float, quiet: float) -> dict:
    """Seconds from the drop to the report's new materialization, and the runs until all is quiet."""
    runs = dev.wait_quiet(dropped, quiet, lambda: dev.report_after(dropped))
    seconds = round(dev.report_after(dropped) - dropped, 1)
    return {"report_seconds": seconds, "runs": len(runs), "detail": summary(runs), "load": load()}


def baseline(dev: Dev, seconds: float) -> dict:
    """The full_refresh run of this instance (there is one): the command's and the run's seconds."""
    [run] = [r for r in dev.runs() if r["jobName"] == "full_refresh"]
    return {"command_seconds": round(seconds, 1), "run_seconds": round(run["endTime"] - run["startTime"], 1)}


def without_last_row(path: Path) -> bytes:
    return b"".join(path.read_bytes().splitlines(keepends=True)[:-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--quiet-seconds", type=float, default=60.0)
    parser.add_argument("--pause-seconds", type=float, default=25.0)
    parser.add_argument("--stack", choices=("dev", "production"), default="dev")
    args = parser.parse_args()
    wanted = args.scenario or list(SCENARIOS)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    source = WORK / "source"
    if not source.is_dir():
        seed.seed(source)
    stack = Production if args.stack == "production" else Dev
    results: dict = {"started": stamp, "stack": stack.name, "cpus": os.cpu_count(), "load_at_start": load()}
    results["scenarios"] = {}

    try:
        if {"quickstart", "correction"} & set(wanted):
            dev = stack(WORK / stamp / "quickstart")
            for path in source.glob("*.csv"):
                deliver(path, dev.landing)
            refreshed = dev.full_refresh()
            started = dev.start()
            try:
                time.sleep(90)
                runs = dev.runs(started)
                results["full_refresh"] = baseline(dev, refreshed)
                results["scenarios"]["quickstart"] = {"runs_in_90_s": len(runs), "runs": summary(runs), "load": load()}  # fmt: skip
                if "correction" in wanted:
                    dev.wait_quiet(started, args.quiet_seconds)  # whatever the sensors started, finished
                    dropped = time.time()
                    march = source / "flights_2013-03.csv"
                    deliver(march, dev.landing, without_last_row(march))
                    results["scenarios"]["correction"] = until_report(dev, dropped, args.quiet_seconds)
            finally:
                dev.stop()

        if {"empty_landing", "paused_writer"} & set(wanted):
            dev = stack(WORK / stamp / "empty_landing")
            started = dev.start()
            try:
                time.sleep(10)  # the sensors' first ticks on an empty folder
                dropped = time.time()
                for path in sorted(source.glob("*.csv")):
                    deliver(path, dev.landing)
                results["scenarios"]["empty_landing"] = until_report(dev, dropped, args.quiet_seconds)
                if "paused_writer" in wanted:
                    results["scenarios"]["paused_writer"] = paused_writer(dev, source, args)
                results["full_refresh_again"] = baseline(dev, dev.full_refresh())  # under the load of the end
            finally:
                dev.stop()
    finally:  # what was measured is kept even if a later scenario fails
        results["load_at_end"] = load()
        (WORK / stamp).mkdir(parents=True, exist_ok=True)
        (WORK / stamp / "results.json").write_text(json.dumps(results, indent=2))
        print(json.dumps(results, indent=2))


def paused_writer(dev: Dev, source: Path, args) -> dict:
    """Rewrite April in place: 0 bytes, a pause, half (cut mid-line), a pause, the rest."""
    april = source / "flights_2013-04.csv"
    content = without_last_row(april)
    cut = content.index(b"\n", len(content) // 2) - 7
    quarantine = Path(dev.env[constants.QUARANTINE_DIR_ENV])
    seen_in_quarantine: set[str] = set()

    def watch(seconds: float) -> None:
        end = time.time() + seconds
        while time.time() < end:
            if quarantine.is_dir():
                seen_in_quarantine.update(p.name for p in quarantine.iterdir())
            time.sleep(0.5)

    began = time.time()
    with open(dev.landing / april.name, "wb") as writer:
        watch(args.pause_seconds)
        writer.write(content[:cut])
        writer.flush()
        watch(args.pause_seconds)
        writer.write(content[cut:])
    completed = time.time()
    digest = hashlib.sha256(content).hexdigest()

    def loaded() -> bool:  # the new content is the loaded version, and the report followed
        latest = dev.materialization(["raw", "flights"], "2013-04-01") or {"metadataEntries": []}
        entries = [e for e in latest["metadataEntries"] if e["label"] == "source_files"]
        files = [f for entry in entries for f in json.loads(entry["jsonString"])]
        return any(f["sha256"] == digest for f in files) and bool(dev.report_after(completed))

    try:
        runs = dev.wait_quiet(began, args.quiet_seconds, loaded, limit=600)
        outcome = {"loaded": True, "report_seconds_after_complete": round(dev.report_after(completed) - completed, 1)}  # fmt: skip
    except TimeoutError:
        runs, outcome = dev.runs(began), {"loaded": False}
    watch(0)
    in_landing = (dev.landing / april.name).is_file()
    return {**outcome, "quarantined": sorted(seen_in_quarantine), "still_in_landing": in_landing,
            "runs": len(runs), "detail": summary(runs), "load": load()}  # fmt: skip


if __name__ == "__main__":
    main()
