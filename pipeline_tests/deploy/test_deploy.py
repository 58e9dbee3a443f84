"""The production deployment: deploy/ files, and the stack run for real by ``python -m deploy.stack``.

The integration tests share one stack for the module: a gRPC code server, the webserver and the
daemon as separate processes on 127.0.0.1, storing in a PostgreSQL database created for the module
and dropped afterwards. They check what an operator relies on: GraphQL serves every definition, a
run launched through it succeeds and is stored in PostgreSQL, a dropped file becomes a run, the
webserver survives a code-server restart, a daemon restart does not load a file twice, a read-only
webserver refuses to launch, the servers listen on loopback only, and ``down`` leaves nothing
running (integration tests: ``pytest -m integration``). Stopping is also tested on a process tree
that ignores SIGTERM, with deploy.processes, the harness of the stack and the tests. The container and Helm
files cannot run here; their commands are parsed by the real Dagster CLIs and checked against each
other and against deploy/dagster.yaml.
"""

from __future__ import annotations

import dataclasses
import importlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import click
import dagster as dg
import duckdb
import psutil
import pytest
import yaml
from dagster._config import Shape, process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.storage.config import pg_config

from deploy import processes, topology
from deploy import stack as stack_module
from pipeline.definitions import defs
from pipeline.defs.raw import seed as landing_seed
from pipeline.defs.raw.landed import LANDED_TABLES
from pipeline.warehouse import connection as warehouse
from pipeline_tests.stack_harness import (
    LAUNCH_RUN,
    REPOSITORY_SELECTOR,
    TERMINAL_RUN_STATUSES,
    pg_connect,
    running_stack,
)

DEPLOY_DIR = topology.DEPLOY_DIR
PROJECT_ROOT = topology.PROJECT_ROOT
JANUARY = "2013-01-01"
JANUARY_FILES = ["flights_2013-01.csv", "weather_2013-01.csv"]
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}

REPOSITORY = """
query Repository($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository {
      jobs { name }
      schedules { name }
      sensors { name sensorType sensorState { status } }
      assetNodes {
        assetKey { path }
        assetChecksOrError { ... on AssetChecks { checks { name } } }
      }
    }
    ... on PythonError { message }
  }
}
"""

RELOAD = """
mutation Reload($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) {
    __typename
    ... on WorkspaceLocationEntry {
      loadStatus
      locationOrLoadError { __typename ... on PythonError { message } }
    }
  }
}
"""

RUN_MATERIALIZATIONS = """
query RunEvents($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status }
  }
  logsForRun(runId: $runId) {
    ... on EventConnection {
      events {
        __typename
        ... on MaterializationEvent {
          assetKey { path }
          metadataEntries { label ... on IntMetadataEntry { intValue } }
        }
      }
    }
  }
}
"""


# --- the running stack -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, postgres_server):
    with running_stack(tmp_path_factory.mktemp("deployment")) as handle:
        # Automation is tested in test_sensors/test_daemon; here its follow-up runs would only
        # compete for the warehouse with the runs these tests wait for.
        for sensor in handle.graphql(REPOSITORY, {"selector": REPOSITORY_SELECTOR})["repositoryOrError"][
            "sensors"
        ]:
            automation = sensor["sensorType"] in ("AUTOMATION", "AUTO_MATERIALIZE")
            if automation and sensor["sensorState"]["status"] == "RUNNING":
                handle.stop_sensor(sensor["name"])
        yield handle


@pytest.fixture(scope="module")
def landed_january(deployment) -> dict[str, dict]:
    """January's files and the dimension files dropped into the landing folder.

    Returns the landing sensor's finished run for each file, by file name.
    """
    dropped = {path.name for path in landing_seed.seed(deployment.landing_dir, months=["2013-01"])}
    deadline = time.monotonic() + 240
    while True:
        runs = deployment.runs({"dagster/sensor_name": "landing_sensor"})
        by_file = {name: run for run in runs for name in run["tags"]["landing/file"].split(", ")}
        if set(by_file) >= dropped and all(r["status"] in TERMINAL_RUN_STATUSES for r in runs):
            return by_file
        assert time.monotonic() < deadline, f"the sensor has not loaded {dropped - set(by_file)}: {runs}"
        time.sleep(1)


def repository(deployment) -> dict:
    result = deployment.graphql(REPOSITORY, {"selector": REPOSITORY_SELECTOR})["repositoryOrError"]
    assert result["__typename"] == "Repository", result
    return result


@pytest.mark.integration
def test_graphql_lists_every_definition_of_the_code_location(deployment):
    served = repository(deployment)
    asset_graph = defs.resolve_asset_graph()
    repository_def = defs.get_repository_def()

    assets = {tuple(node["assetKey"]["path"]) for node in served["assetNodes"]}
    checks = {
        (tuple(node["assetKey"]["path"]), check["name"])
        for node in served["assetNodes"]
        for check in node["assetChecksOrError"]["checks"]
    }
    assert assets == {tuple(key.path) for key in asset_graph.get_all_asset_keys()}
    assert ("reports", "carrier_on_time") in assets
    assert checks == {(tuple(key.asset_key.path), key.name) for key in asset_graph.asset_check_keys}
    assert {job["name"] for job in served["jobs"]} == {job.name for job in defs.resolve_all_job_defs()}
    assert {s["name"] for s in served["schedules"]} == {s.name for s in repository_def.schedule_defs}
    sensors = {s["name"]: s["sensorState"]["status"] for s in served["sensors"]}
    assert set(sensors) == {s.name for s in repository_def.sensor_defs}
    assert sensors["landing_sensor"] == "RUNNING"


@pytest.mark.integration
def test_daemon_loads_the_dropped_files_in_one_run_per_delivery(deployment, landed_january):
    assert all(run["status"] == "SUCCESS" for run in landed_january.values()), landed_january
    dimension_files = set(LANDED_TABLES.whole_files)
    assert set(landed_january) == {*JANUARY_FILES, *dimension_files}
    for name in JANUARY_FILES:  # a monthly file loads exactly its month
        assert landed_january[name]["tags"]["dagster/partition"] == JANUARY
    # January's flights and weather landed together: one delivery, one run.
    assert len({landed_january[name]["runId"] for name in JANUARY_FILES}) == 1

    source_rows = {
        name: duckdb.connect()
        .execute("select count(*) from read_csv(?, header = true)", [str(deployment.landing_dir / name)])
        .fetchone()[0]
        for name in JANUARY_FILES
    }
    with warehouse.connect(deployment.warehouse_path, read_only=True) as conn:
        flights = conn.execute("select count(*) from raw.flights where month = 1").fetchone()[0]
        weather = conn.execute("select count(*) from raw.weather where month = 1").fetchone()[0]
        airlines = conn.execute("select count(*) from raw.airlines").fetchone()[0]
    assert flights == source_rows["flights_2013-01.csv"] == 27_004
    assert weather == source_rows["weather_2013-01.csv"]
    assert airlines == 16


@pytest.mark.integration
def test_materialization_launched_through_graphql_is_stored_in_postgres(deployment, landed_january):
    # The sensor loaded the raw layer; everything downstream of it, for January, as an operator
    # would launch it from the UI (one process: each step in its own would cost seconds apiece).
    asset_graph = defs.resolve_asset_graph()
    asset_keys = sorted(
        tuple(key.path)
        for key in asset_graph.get_all_asset_keys()
        if asset_graph.get(key).is_materializable and asset_graph.get(key).group_name != "raw"
    )
    run_id = deployment.launch_run(
        "__ASSET_JOB", asset_keys, tags={"dagster/partition": JANUARY}, run_config=IN_PROCESS
    )
    (run,) = deployment.wait_for_runs(run_ids=[run_id], timeout=240)
    assert run["status"] == "SUCCESS", deployment.stack.log_tail("code-server")

    served = deployment.graphql(RUN_MATERIALIZATIONS, {"runId": run_id})
    assert served["runOrError"]["status"] == "SUCCESS"
    materializations = {
        tuple(event["assetKey"]["path"]): {e["label"]: e.get("intValue") for e in event["metadataEntries"]}
        for event in served["logsForRun"]["events"]
        if event["__typename"] == "MaterializationEvent"
    }
    assert set(materializations) == set(asset_keys)
    january_carriers = (
        duckdb.connect()
        .execute(
            "select count(distinct carrier) from read_csv(?, header = true)",
            [str(deployment.landing_dir / "flights_2013-01.csv")],
        )
        .fetchone()[0]
    )
    assert materializations[("reports", "carrier_on_time")]["carriers"] == january_carriers

    # The same run, read from PostgreSQL itself rather than through Dagster.
    with pg_connect(deployment.database) as conn, conn.cursor() as cursor:
        cursor.execute("select status, pipeline_name from runs where run_id = %s", [run_id])
        assert cursor.fetchall() == [("SUCCESS", "__ASSET_JOB")]
        cursor.execute(
            "select distinct asset_key from event_logs "
            "where run_id = %s and dagster_event_type = 'ASSET_MATERIALIZATION'",
            [run_id],
        )
        stored_keys = {tuple(json.loads(key)) for (key,) in cursor.fetchall()}
        cursor.execute(
            "select dagster_event_type, count(*) from event_logs "
            "where run_id = %s and dagster_event_type like 'PIPELINE_%%' group by 1",
            [run_id],
        )
        run_events = dict(cursor.fetchall())
    assert stored_keys == set(asset_keys)
    # queued by the run coordinator, started by the daemon, finished once
    assert run_events == {"PIPELINE_ENQUEUED": 1, "PIPELINE_STARTING": 1, "PIPELINE_START": 1,
                          "PIPELINE_SUCCESS": 1}  # fmt: skip


@pytest.mark.integration
def test_webserver_serves_the_location_again_after_the_code_server_restarts(deployment):
    stack = deployment.stack
    before = stack.running_pid("code-server")
    stack.stop("code-server")
    unreachable = deployment.graphql(RELOAD, {"name": "flights"})["reloadRepositoryLocation"]
    assert unreachable["locationOrLoadError"]["__typename"] == "PythonError"
    assert "UNAVAILABLE" in unreachable["locationOrLoadError"]["message"]

    assert not processes.is_alive(before)

    stack.start("code-server")
    reloaded = deployment.graphql(RELOAD, {"name": "flights"})["reloadRepositoryLocation"]
    assert reloaded["loadStatus"] == "LOADED"
    assert reloaded["locationOrLoadError"]["__typename"] == "RepositoryLocation"
    assert stack.running_pid("code-server") not in (None, before)
    served = {tuple(node["assetKey"]["path"]) for node in repository(deployment)["assetNodes"]}
    assert served == {tuple(key.path) for key in defs.resolve_asset_graph().get_all_asset_keys()}


@pytest.mark.integration
def test_restarted_daemon_does_not_load_a_processed_file_again(deployment, landed_january):
    sensor_runs_before = {run["runId"] for run in deployment.runs({"dagster/sensor_name": "landing_sensor"})}
    old_daemon = deployment.stack.running_pid("daemon")
    deployment.cli("restart", "daemon")
    restarted_at = time.time()
    assert deployment.stack.running_pid("daemon") not in (None, old_daemon)
    assert not processes.is_alive(old_daemon)

    # The new daemon's first evaluation is the one that would reload the files if the sensor's
    # cursor (in PostgreSQL) had not survived the restart.
    deadline = time.monotonic() + 90
    while True:
        ticks = deployment.sensor_state("landing_sensor", after=restarted_at)["ticks"]
        finished = [tick for tick in ticks if tick["status"] != "STARTED"]
        if finished:
            break
        assert time.monotonic() < deadline, f"the landing sensor did not tick after the restart: {ticks}"
        time.sleep(1)
    assert all(tick["status"] == "SKIPPED" and not tick["runIds"] for tick in finished), finished
    assert all((deployment.landing_dir / name).is_file() for name in JANUARY_FILES)
    sensor_runs_after = {run["runId"] for run in deployment.runs({"dagster/sensor_name": "landing_sensor"})}
    assert sensor_runs_after == sensor_runs_before


@pytest.mark.integration
def test_status_reports_every_part_healthy(deployment):
    lines = deployment.cli("status").stdout.splitlines()
    for component in topology.COMPONENTS:
        (line,) = [line for line in lines if line.startswith(component)]
        assert f"pid {deployment.stack.running_pid(component)}, healthy" in line, lines


@pytest.mark.integration
def test_read_only_webserver_shows_but_refuses_to_launch(deployment, tmp_path):
    """A second webserver on the same instance, started with --read-only, as for viewers."""
    settings = dataclasses.replace(
        deployment.stack.settings,
        home=tmp_path / "viewer",
        webserver_port=processes.free_port(),
        read_only=True,
    )
    viewer = stack_module.Stack(settings, deployment.env)
    viewer.prepare()
    viewer.start("webserver")
    try:
        assert "--read-only" in viewer.command("webserver")
        served = viewer.graphql(REPOSITORY, {"selector": REPOSITORY_SELECTOR})["repositoryOrError"]
        assert ("reports", "carrier_on_time") in {tuple(n["assetKey"]["path"]) for n in served["assetNodes"]}
        params = {
            "selector": {**REPOSITORY_SELECTOR, "jobName": "__ASSET_JOB",
                         "assetSelection": [{"path": ["reports", "carrier_on_time"]}]},
        }  # fmt: skip
        refused = viewer.graphql(LAUNCH_RUN, {"params": params})["launchRun"]
        assert refused["__typename"] == "UnauthorizedError", refused
    finally:
        viewer.stop("webserver")
    assert not processes.is_listening(settings.host, settings.webserver_port)


@pytest.mark.integration
def test_servers_listen_on_loopback_only(deployment):
    settings = deployment.stack.settings
    listening = _listening_sockets()
    for port in (settings.grpc_port, settings.webserver_port):
        addresses = {address for address, listening_port in listening if listening_port == port}
        assert addresses and all(address.is_loopback for address in addresses), (port, addresses)


def _listening_sockets() -> set[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]]:
    """(address, port) of every TCP socket in LISTEN state, IPv4 and IPv6.

    An IPv6 socket bound to an IPv4 address shows it mapped (::ffff:127.0.0.1), reported here as
    the IPv4 one.
    """
    sockets = set()
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status != psutil.CONN_LISTEN:
            continue
        address = ipaddress.ip_address(connection.laddr.ip)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        sockets.add((address, connection.laddr.port))
    return sockets


# --- stopping processes that resist --------------------------------------------------------------

IGNORES_SIGTERM = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
# The child inherits the ignored SIGTERM across exec, like a run worker of a stubborn server.
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
time.sleep(600)
"""


@pytest.mark.integration  # starts a tree of processes
def test_terminate_kills_a_process_tree_that_ignores_sigterm():
    server = processes.start([sys.executable, "-c", IGNORES_SIGTERM])
    try:
        deadline = time.monotonic() + 30
        while len(family := processes.family(server.pid, server.create_time)) < 2:
            assert time.monotonic() < deadline, "the child process did not start"
            time.sleep(0.1)
        started = time.monotonic()
        processes.stop_family(family, grace=1.0)
        assert time.monotonic() - started >= 1.0  # SIGTERM alone did not do it
        assert not any(processes.is_alive(process) for process in family)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)


def _ignores_sigint(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    ignored = int(re.search(r"^SigIgn:\s*([0-9a-f]+)$", status, re.MULTILINE).group(1), 16)
    return bool(ignored & (1 << (signal.SIGINT - 1)))


@pytest.mark.integration  # starts processes
def test_servers_start_with_sigint_handled_even_from_a_background_shell():
    """A background job of a non-interactive shell ignores SIGINT, and children inherit that."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    children = []
    try:
        children.append(subprocess.Popen(["sleep", "30"]))
        with processes.default_signal_handling():
            children.append(subprocess.Popen(["sleep", "30"]))
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # restored for the caller
        children.append(processes.start(["sleep", "30"]))  # as the stack starts its servers
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        inherited, reset, started = (_ignores_sigint(child.pid) for child in children)
        assert inherited and not reset and not started
    finally:
        signal.signal(signal.SIGINT, previous)
        for child in children:
            child.kill()
            child.wait()


# --- files that cannot run here: checked by construction ----------------------------------------


def parse_command(argv: list[str]) -> tuple[list[str], dict]:
    """Parse ``argv`` with the click command behind its console script, as the container would.

    Raises click.UsageError for an unknown subcommand or option; returns the command path and
    the parsed parameters.
    """
    script = entry_points(group="console_scripts")[argv[0]]
    command = importlib.import_module(script.module).cli
    path, args = [argv[0]], list(argv[1:])
    while isinstance(command, click.Group):
        subcommand = command.get_command(click.Context(command), args[0])
        if subcommand is None:
            raise click.UsageError(f"{' '.join(path)} has no subcommand {args[0]!r}")
        path.append(args.pop(0))
        command = subcommand
    return path, command.make_context(" ".join(path), args).params


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY_DIR / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def image_files() -> dict[str, Path]:
    """Paths inside the image of the files the Dockerfile copies from deploy/, to the repo file."""
    instructions = dockerfile_instructions()
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(v for k, v in instructions if k == "ENV")))
    files = {}
    for kind, value in instructions:
        if kind == "COPY":
            *sources, target = value.split()
            target = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], target)
            for source in sources:
                assert (PROJECT_ROOT / source).exists(), f"Dockerfile copies missing {source}"
                if target.endswith("/"):
                    files[target + Path(source).name] = PROJECT_ROOT / source
    return files


def in_checkout(argv: list[str]) -> list[str]:
    """The image's paths in ``argv`` replaced by the files they are copied from."""
    files = image_files()
    return [str(files.get(arg, arg)) for arg in argv]


def test_parse_command_rejects_unknown_options():
    with pytest.raises(click.UsageError, match="--bogus"):
        parse_command(["dagster", "api", "grpc", "--bogus"])
    with pytest.raises(click.UsageError, match="no subcommand"):
        parse_command(["dagster-daemon", "serve"])


def test_image_serves_the_code_location_by_default():
    (cmd,) = [value for kind, value in dockerfile_instructions() if kind == "CMD"]
    path, params = parse_command(json.loads(cmd))
    assert path == ["dagster", "api", "grpc"]
    assert params["module_name"] == "pipeline.definitions"
    assert isinstance(importlib.import_module(params["module_name"]).defs, dg.Definitions)
    assert params["location_name"] == topology.LOCATION_NAME
    assert not [kind for kind, _ in dockerfile_instructions() if kind == "ENTRYPOINT"], (
        "the Helm chart passes the full command as args; an ENTRYPOINT would prefix it"
    )
    dockerignore = (DEPLOY_DIR / "Dockerfile.dockerignore").read_text().splitlines()
    for kind, value in dockerfile_instructions():
        if kind == "COPY":
            for source in value.split()[:-1]:
                assert f"!{source.rstrip('/')}" in [line.rstrip("/") for line in dockerignore]


def test_compose_runs_the_three_roles_against_postgres():
    compose = yaml.safe_load((DEPLOY_DIR / "docker-compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "code-server", "webserver", "daemon"}
    commands = {
        name: parse_command(in_checkout(services[name]["command"])) for name in services if name != "postgres"
    }
    assert [c[0] for c in commands.values()] == [
        ["dagster", "api", "grpc"],
        ["dagster-webserver"],
        ["dagster-daemon", "run"],
    ]
    grpc = commands["code-server"][1]
    assert grpc["module_name"] == "pipeline.definitions"
    assert parse_command(services["code-server"]["healthcheck"]["test"][1:])[1]["port"] == grpc["port"]

    workspace = yaml.safe_load((DEPLOY_DIR / "workspace.yaml").read_text())["load_from"][0]["grpc_server"]
    for name in ("webserver", "daemon"):
        environment = services[name]["environment"]
        assert environment[workspace["host"]["env"]] == "code-server"
        assert int(environment[workspace["port"]["env"]]) == grpc["port"]
        assert str(commands[name][1]["workspace"][0]) == str(DEPLOY_DIR / "workspace.yaml")
    (published,) = services["webserver"]["ports"]
    host_address, _, container_port = published.split(":")
    assert host_address == "127.0.0.1" and int(container_port) == commands["webserver"][1]["port"]
    for name in ("code-server", "webserver", "daemon"):
        assert services[name]["environment"]["DAGSTER_DISABLE_TELEMETRY"] == "1"

    instance = yaml.safe_load((DEPLOY_DIR / "dagster.yaml").read_text())
    for variable in instance["storage"]["postgres"]["postgres_db"].values():
        if isinstance(variable, dict):
            assert variable["env"] in services["code-server"]["environment"]
    assert services["code-server"]["environment"]["DAGSTER_PG_PASSWORD"].startswith("${DAGSTER_PG_PASSWORD:?")
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${DAGSTER_PG_PASSWORD:?")


# Fields of the official chart's values (helm/dagster/schema/schema/charts/dagster/values.py and
# charts/dagster_user_deployments/subschema/user_deployments.py in dagster-io/dagster).
CHART_TOP_LEVEL = {
    "dagsterWebserver", "dagster-user-deployments", "postgresql", "generatePostgresqlPasswordSecret",
    "generateCeleryConfigSecret", "rabbitmq", "redis", "flower", "ingress", "imagePullSecrets",
    "computeLogManager", "scheduler", "runLauncher", "pythonLogs", "dagsterDaemon", "busybox",
    "migrate", "telemetry", "serviceAccount", "global", "retention", "concurrency",
    "additionalInstanceConfig",
}  # fmt: skip
CHART_USER_DEPLOYMENT = {
    "name", "image", "port", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns",
    "env", "envConfigMaps", "envSecrets", "annotations", "nodeSelector", "affinity", "tolerations",
    "podSecurityContext", "securityContext", "resources", "livenessProbe", "readinessProbe",
    "startupProbe", "labels", "volumeMounts", "volumes", "schedulerName",
}  # fmt: skip


def test_helm_values_deploy_the_code_location_like_the_local_instance():
    values = yaml.safe_load((DEPLOY_DIR / "helm" / "values.yaml").read_text())
    instance = yaml.safe_load((DEPLOY_DIR / "dagster.yaml").read_text())
    assert set(values) <= CHART_TOP_LEVEL

    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert set(deployment) <= CHART_USER_DEPLOYMENT
    assert {"name", "image", "port"} <= set(deployment)
    assert set(deployment["image"]) == {"repository", "tag", "pullPolicy"}
    # deployment-user.yaml in the chart runs exactly this:
    _path, params = parse_command(
        [
            "dagster",
            "api",
            "grpc",
            "-h",
            "0.0.0.0",
            "-p",
            str(deployment["port"]),
            *deployment["dagsterApiGrpcArgs"],
        ]
    )
    assert params["module_name"] == "pipeline.definitions"
    mount = {m["name"]: m["mountPath"] for m in deployment["volumeMounts"]}
    for variable in deployment["env"]:
        if variable["name"].endswith(("_DIR", "_PATH")):
            assert any(variable["value"].startswith(target) for target in mount.values()), variable
    monitoring = values["dagsterDaemon"]["runMonitoring"]
    assert (
        monitoring["freeSlotsAfterRunEndSeconds"]
        == instance["run_monitoring"]["free_slots_after_run_end_seconds"]
    )
    assert monitoring["startTimeoutSeconds"] == instance["run_monitoring"]["start_timeout_seconds"]
    assert values["additionalInstanceConfig"]["run_retries"] == instance["run_retries"]
    assert (
        values["postgresql"]["postgresqlScheme"] == instance["storage"]["postgres"]["postgres_db"]["scheme"]
    )
    # The password lives in a secret made out of band, never in the values.
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    assert values["postgresql"]["postgresqlPassword"] == ""
    assert values["telemetry"]["enabled"] is instance["telemetry"]["enabled"] is False
    for role in ("dagsterWebserver", "dagsterDaemon"):
        assert {"name": "DAGSTER_DISABLE_TELEMETRY", "value": "1"} in values[role]["env"]


def test_helm_runs_are_pods_with_what_a_run_needs_on_the_lake():
    """K8sRunLauncher: each run a pod; it gets the lake's settings, its password and the data claim."""
    from dagster_k8s import K8sRunLauncher

    values = yaml.safe_load((DEPLOY_DIR / "helm" / "values.yaml").read_text())
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    # The chart's camelCase keys are K8sRunLauncher's config fields.
    config = {
        "env_vars": launcher["envVars"],
        "env_secrets": [secret["name"] for secret in launcher["envSecrets"]],
        "volumes": launcher["volumes"],
        "volume_mounts": launcher["volumeMounts"],
        "instance_config_map": "dagster-instance",
        "service_account_name": "dagster",
        "dagster_home": "/opt/dagster/dagster_home",
    }
    assert process_config(K8sRunLauncher.config_type(), config).success
    run_env = dict(variable.split("=", 1) for variable in launcher["envVars"])
    user_env = {variable["name"]: variable["value"] for variable in deployment["env"]}
    for name in ("WAREHOUSE_BACKEND", "DUCKLAKE_CATALOG", "DUCKLAKE_DATA_PATH", "LANDING_DIR"):
        assert run_env[name] == user_env[name], name
    assert run_env["WAREHOUSE_BACKEND"] == "ducklake"
    assert "password" not in run_env["DUCKLAKE_CATALOG"].lower()
    assert launcher["envSecrets"] == deployment["envSecrets"]
    assert launcher["volumeMounts"] == deployment["volumeMounts"]
    assert launcher["volumes"] == deployment["volumes"]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    mounts = [mount["mountPath"] for mount in launcher["volumeMounts"]]
    for name in ("DUCKLAKE_DATA_PATH", "LANDING_DIR"):
        assert any(run_env[name].startswith(path) for path in mounts), name


def test_compose_runs_are_containers_with_what_a_run_needs_on_the_lake():
    """DockerRunLauncher: each run a container of the code server's image, on the compose network,
    with the lake's settings and the data volume."""
    from dagster_docker import DockerRunLauncher

    compose = yaml.safe_load((DEPLOY_DIR / "docker-compose.yaml").read_text())
    docker_instance = yaml.safe_load((DEPLOY_DIR / "dagster-docker.yaml").read_text())
    instance = yaml.safe_load((DEPLOY_DIR / "dagster.yaml").read_text())
    services = compose["services"]
    launcher = docker_instance["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    assert process_config(DockerRunLauncher.config_type(), launcher["config"]).success
    # Everything but the launcher and the run limit is the local instance's.
    for key in set(instance) - {"run_launcher", "concurrency"}:
        assert docker_instance[key] == instance[key], key

    for name in ("code-server", "webserver", "daemon"):
        mounts = services[name]["volumes"]
        assert "./dagster-docker.yaml:/opt/dagster/dagster_home/dagster.yaml:ro" in mounts, name
    daemon_env = services["daemon"]["environment"]
    for variable in launcher["config"]["env_vars"]:
        assert variable in daemon_env, variable
    assert daemon_env["WAREHOUSE_BACKEND"] == "ducklake"
    assert "password" not in daemon_env["DUCKLAKE_CATALOG"].lower()
    assert daemon_env["PGPASSWORD"].startswith("${DAGSTER_PG_PASSWORD:?")
    assert "/var/run/docker.sock:/var/run/docker.sock" in services["daemon"]["volumes"]
    assert daemon_env["DAGSTER_CURRENT_IMAGE"] == services["code-server"]["image"]
    assert compose["networks"]["default"]["name"] == launcher["config"]["network"]
    volume_names = {volume["name"] for volume in compose["volumes"].values() if volume}
    data_mount = None
    for volume in launcher["config"]["container_kwargs"]["volumes"]:
        name, path = volume.split(":")[:2]
        assert name in volume_names, volume
        if name == "flights-data":
            data_mount = path
    assert data_mount and daemon_env["DUCKLAKE_DATA_PATH"].startswith(data_mount)
    assert daemon_env["LANDING_DIR"].startswith(data_mount)
    init = DEPLOY_DIR / "postgres-init" / "10-flights-lake.sql"
    assert "dbname=flights_lake" in daemon_env["DUCKLAKE_CATALOG"]
    assert "create database flights_lake" in init.read_text()


def test_instance_config_takes_every_connection_setting_from_the_environment(tmp_path, monkeypatch):
    shutil.copyfile(DEPLOY_DIR / "dagster.yaml", tmp_path / "dagster.yaml")
    for name, value in {
        "HOST": "db.internal",
        "PORT": "6543",
        "USER": "u",
        "PASSWORD": "p@ss",
        "DB": "d",
    }.items():
        monkeypatch.setenv(f"DAGSTER_PG_{name}", value)
    config, _ = dagster_instance_config(str(tmp_path))
    postgres_db = config["storage"]["postgres"]["postgres_db"]
    assert all(set(value) == {"env"} for key, value in postgres_db.items() if key != "scheme")
    assert config["run_monitoring"]["enabled"] and config["run_retries"]["enabled"]
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"

    from dagster_postgres.utils import pg_url_from_config  # 1.5 s to import: only this test needs it

    resolved = process_config(Shape(pg_config()), config["storage"]["postgres"])
    assert resolved.success, resolved.errors
    assert pg_url_from_config(resolved.value) == "postgresql+psycopg2://u:p%40ss@db.internal:6543/d"
