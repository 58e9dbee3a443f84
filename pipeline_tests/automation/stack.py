"""A real code server and daemon on a temporary instance, and what the tests read from them.

The code location's gRPC server and ``dagster-daemon run`` start as their own process sessions
(deploy.processes, through pipeline_tests/processes.py) with a temporary DAGSTER_HOME holding the
project's dagster.yaml (SQLite, the queued run coordinator) and every data path under one folder.
Nothing here waits a fixed time for a result: helpers poll the instance until what they wait for
is recorded, with generous timeouts for a loaded 2-core machine.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import yaml

from deploy import processes
from pipeline_tests.processes import (
    dagster_home,
    server_environment,
    start_code_server,
    start_daemon,
    wait_for_port,
)

STARTUP_TIMEOUT_SECONDS = 300
STOP_GRACE_SECONDS = 20
REPORT = dg.AssetKey(["reports", "carrier_on_time"])


@dataclass
class Stack:
    root: Path
    landing: Path
    instance: dg.DagsterInstance
    started: list
    port: int

    def alive(self) -> None:
        for process, name in zip(self.started, ("code_server", "daemon"), strict=False):
            assert process.poll() is None, (self.root / f"{name}.log").read_text()[-3000:]

    def log_tail(self) -> str:
        return (self.root / "daemon.log").read_text()[-3000:]

    def run_records(self, since: float = 0.0) -> list:
        records = [r for r in self.instance.get_run_records() if r.create_timestamp.timestamp() > since]
        return sorted(records, key=lambda record: record.create_timestamp)

    def runs(self, since: float = 0.0) -> list[dg.DagsterRun]:
        return [record.dagster_run for record in self.run_records(since)]

    def ticks(self, sensor: str, after: float) -> list:
        states = [s for s in self.instance.all_instigator_state() if s.name == sensor]
        if not states:
            return []
        state = states[0]
        ticks = self.instance.get_ticks(state.instigator_origin_id, state.selector_id, after=float(after))
        return [tick for tick in ticks if tick.is_completed]

    def wait(self, what: Callable[[], object], timeout: float, message: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.alive()
            found = what()
            if found:
                return found
            time.sleep(1)
        raise AssertionError(f"{message} within {timeout:.0f} s; daemon log:\n{self.log_tail()}")

    def quiet_runs(
        self, since: float, expected_at_least: int = 1, timeout: float = 900
    ) -> list[dg.DagsterRun]:
        """The runs created after ``since``, once at least ``expected_at_least`` exist, all have
        finished, and both sensors have completed a tick that began after the last one ended (so
        any run they were going to launch for it has been launched)."""

        def settled():
            records = self.run_records(since)
            if len(records) < expected_at_least or not all(r.dagster_run.is_finished for r in records):
                return None
            ended = max([since, *(record.end_time or 0 for record in records)])
            if all(self.ticks(sensor, ended) for sensor in ("landing_sensor", "automation_sensor")):
                runs = self.runs(since)
                return runs if len(runs) == len(records) else None
            return None

        return self.wait(settled, timeout, f"no quiet state after {expected_at_least} run(s)")

    def materializations(self, key: dg.AssetKey, since: float) -> list[dg.AssetMaterialization]:
        records = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, after_timestamp=since), limit=1000
        ).records
        return [record.asset_materialization for record in records]


def deliver(source: Path, landing: Path, content: bytes | None = None) -> Path:
    """As upstream does: write under a temporary name, rename when complete."""
    partial = landing / (source.name + ".part")
    if content is None:
        shutil.copyfile(source, partial)
    else:
        partial.write_bytes(content)
    partial.replace(landing / source.name)
    return landing / source.name


def start_stack(
    root: Path, environment: dict[str, str], before: Callable[[Path], None] | None = None, **instance_config
) -> Stack:
    """Code server and daemon for the code location with data under ``root``; ``environment`` is
    added to the code server's (where sensors evaluate) and the daemon's. ``before(home)`` runs
    once the instance exists, before either starts."""
    home = dagster_home(root / "dagster_home", **instance_config)
    if before is not None:
        before(home)
    landing = root / "landing"
    landing.mkdir(exist_ok=True)
    port = processes.free_port()
    workspace = root / "workspace.yaml"
    grpc_server = {"host": "127.0.0.1", "port": port, "location_name": "flights"}
    workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": grpc_server}]}))
    env = {**server_environment(root, dagster_home=home), **environment}
    started: list = []
    try:
        started.append(start_code_server(env, port, log=root / "code_server.log", cwd=root))
        wait_for_port(started[0], port, root / "code_server.log", STARTUP_TIMEOUT_SECONDS)
        started.append(start_daemon(env, root / "daemon.log", "-w", str(workspace), cwd=root))
    except BaseException:
        processes.stop(*started, grace=STOP_GRACE_SECONDS, ports=[port])
        raise
    return Stack(root, landing, dg.DagsterInstance.from_config(str(home)), started, port)


def stop_stack(stack: Stack) -> None:
    """Both sessions and any run worker that left them; nothing may survive or listen."""
    try:
        stack.instance.dispose()
    finally:
        processes.stop(*stack.started, grace=STOP_GRACE_SECONDS, ports=[stack.port])
