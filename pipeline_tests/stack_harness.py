"""Harness for the tests that run the production topology (test_deploy.py, test_browser.py).

``running_stack`` creates a fresh PostgreSQL database, runs ``python -m deploy.stack up`` on free
ports with every folder and file of the code location under a temporary directory, and yields a
``StackHandle`` that talks GraphQL to the webserver. On exit it runs ``down``, then checks that no
process of the stack is alive and nothing listens on its ports, and drops the database. Processes
are found and probed with ``deploy.processes``, the harness the stack itself uses.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
import urllib.error
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

from deploy import processes, topology
from deploy import stack as stack_module
from pipeline import constants
from pipeline_tests.processes import server_environment

STACK_MODULE = "deploy.stack"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "password": ""}
REPOSITORY_SELECTOR = {"repositoryLocationName": "flights", "repositoryName": "__repository__"}
TERMINAL_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}

LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PipelineNotFoundError { message }
  }
}
"""

RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    ... on Runs {
      results { runId status jobName creationTime tags { key value } }
    }
  }
}
"""

SENSOR_STATE = """
query Sensor($selector: SensorSelector!, $after: Float) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor {
      sensorState {
        id
        status
        ticks(afterTimestamp: $after) { status timestamp runIds runKeys skipReason }
      }
    }
  }
}
"""

SENSORS = """
query Sensors($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    ... on Repository { sensors { name sensorState { status } } }
  }
}
"""

STOP_SENSOR = """
mutation Stop($id: String!) {
  stopSensor(id: $id) {
    __typename
    ... on StopSensorMutationResult { instigationState { status } }
    ... on PythonError { message }
  }
}
"""


def _admin_connection():
    conn = psycopg2.connect(dbname="postgres", **PG)
    conn.autocommit = True
    return conn


def pg_connect(database: str):
    return psycopg2.connect(dbname=database, **PG)


@dataclass
class StackHandle:
    stack: stack_module.Stack
    database: str
    landing_dir: Path
    warehouse_path: Path
    env: dict[str, str]

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """``python -m deploy.stack <args> --home <home>``, as a user would run it."""
        result = subprocess.run(
            [sys.executable, "-m", STACK_MODULE, *args, "--home", str(self.stack.settings.home)],
            check=False,
            cwd=topology.PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, (
            f"{STACK_MODULE} {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
        return result

    def graphql(self, query: str, variables: Mapping | None = None) -> dict:
        return self.stack.graphql(query, variables)

    def launch_run(
        self,
        job_name: str,
        asset_keys: Sequence[Sequence[str]] | None = None,
        tags: Mapping[str, str] | None = None,
        run_config: Mapping | None = None,
    ) -> str:
        selector = {**REPOSITORY_SELECTOR, "jobName": job_name}
        if asset_keys is not None:
            selector["assetSelection"] = [{"path": list(key)} for key in asset_keys]
        params = {
            "selector": selector,
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
        }
        if run_config is not None:
            params["runConfigData"] = dict(run_config)
        result = self.graphql(LAUNCH_RUN, {"params": params})["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def runs(self, tags: Mapping[str, str] | None = None, run_ids: Sequence[str] | None = None) -> list[dict]:
        run_filter: dict = {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}
        if run_ids is not None:
            run_filter["runIds"] = list(run_ids)
        results = self.graphql(RUNS, {"filter": run_filter})["runsOrError"]["results"]
        return [{**run, "tags": {t["key"]: t["value"] for t in run["tags"]}} for run in results]

    def wait_for_runs(
        self,
        tags: Mapping[str, str] | None = None,
        run_ids: Sequence[str] | None = None,
        count: int = 1,
        timeout: float = 180,
    ) -> list[dict]:
        """The matching runs, once at least ``count`` exist and every one of them has finished."""
        deadline = time.monotonic() + timeout
        while True:
            runs = self.runs(tags, run_ids)
            if len(runs) >= count and all(r["status"] in TERMINAL_RUN_STATUSES for r in runs):
                return runs
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Runs {dict(tags or {})} {run_ids or ''} not finished after {timeout:.0f} s: "
                    f"{runs}\nDaemon log:\n{self.stack.log_tail('daemon')}"
                )
            time.sleep(1)

    def sensor_state(self, name: str, after: float | None = None) -> dict:
        result = self.graphql(
            SENSOR_STATE, {"selector": {**REPOSITORY_SELECTOR, "sensorName": name}, "after": after}
        )["sensorOrError"]
        assert result["__typename"] == "Sensor", result
        return result["sensorState"]

    def stop_sensor(self, name: str, attempts: int = 5) -> None:
        # Stopping a sensor that is running by default inserts its first stored state unless one
        # exists (dagster's stop_sensor checks, then inserts); the daemon's first tick does the same,
        # so the loser of that race fails its insert and the webserver answers 500. Once the row
        # exists a retry updates it.
        for attempt in range(attempts):
            try:
                result = self.graphql(STOP_SENSOR, {"id": self.sensor_state(name)["id"]})["stopSensor"]
                break
            except urllib.error.HTTPError as error:
                if error.code != 500 or attempt == attempts - 1:
                    raise AssertionError(
                        f"stopSensor {name} failed: {error}\nWebserver log:\n{self.stack.log_tail('webserver')}"
                    ) from error
                time.sleep(1)
        assert result["__typename"] == "StopSensorMutationResult", result
        assert result["instigationState"]["status"] == "STOPPED"

    def stop_running_sensors(self) -> None:
        """Stop every sensor that runs: tests that launch their runs explicitly want no others."""
        sensors = self.graphql(SENSORS, {"selector": REPOSITORY_SELECTOR})["repositoryOrError"]["sensors"]
        for sensor in sensors:
            if sensor["sensorState"]["status"] == "RUNNING":
                self.stop_sensor(sensor["name"])


@contextmanager
def running_stack(root: Path, environment: Mapping[str, str] | None = None) -> Iterator[StackHandle]:
    """The stack up on free ports; ``environment`` adds to (or overrides) the servers' variables."""
    database = f"flights_test_{secrets.token_hex(4)}"
    env = {
        **server_environment(root / "data"),
        **(environment or {}),
        "DAGSTER_PG_HOST": PG["host"],
        "DAGSTER_PG_PORT": str(PG["port"]),
        "DAGSTER_PG_USER": PG["user"],
        "DAGSTER_PG_PASSWORD": PG["password"],
        "DAGSTER_PG_DB": database,
    }
    Path(env[constants.LANDING_DIR_ENV]).mkdir(parents=True)
    settings = topology.Settings(
        home=root / "dagster_home",
        grpc_port=processes.free_port(),
        webserver_port=processes.free_port(),
        viewer_port=processes.free_port(),
    )
    handle = StackHandle(
        stack=stack_module.Stack(settings, env),
        database=database,
        landing_dir=Path(env[constants.LANDING_DIR_ENV]),
        warehouse_path=Path(env[constants.WAREHOUSE_PATH_ENV]),
        env=env,
    )
    admin = _admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    try:
        handle.cli(
            "up",
            "--grpc-port", str(settings.grpc_port),
            "--webserver-port", str(settings.webserver_port),
            "--viewer-port", str(settings.viewer_port),
        )  # fmt: skip
        try:
            yield handle
        finally:
            family = set().union(*(handle.stack.family(c) for c in handle.stack.components))
            assert family, "the stack has no live process to stop"
            handle.cli("down")
            survivors = [process.pid for process in family if processes.is_alive(process)]
            listening = [
                port
                for port in (settings.grpc_port, settings.webserver_port, settings.viewer_port)
                if processes.is_listening(settings.host, port)
            ]
            assert not survivors, f"processes left running after down: {survivors}"
            assert not listening, f"ports still listening after down: {listening}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
            )
        admin.close()
