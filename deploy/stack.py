"""The production topology on this machine: code server, webserver and daemon on PostgreSQL.

Three separate processes, as in the compose file and the Helm chart:

- ``dagster api grpc -m pipeline.definitions``: the code location, served over gRPC;
- ``dagster-webserver -w deploy/workspace.yaml``: the UI and GraphQL API;
- ``dagster-daemon run -w deploy/workspace.yaml``: schedules, sensors, the run queue, monitoring.

Usage (from the repository root, with the project's virtualenv)::

    python deploy/stack.py up                  # start; returns when every part is healthy
    python deploy/stack.py status
    python deploy/stack.py restart code-server # or webserver, daemon
    python deploy/stack.py down                # stop; nothing is left running or listening

The instance lives in ``--home`` (default ``.dagster_deploy/``): a copy of deploy/dagster.yaml,
the processes' logs and the pid file. PostgreSQL settings come from DAGSTER_PG_HOST, _PORT,
_USER, _PASSWORD and _DB (defaults: 127.0.0.1, 5432, postgres, empty, dagster); the database is
created if it does not exist. Servers bind to 127.0.0.1 unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import psycopg2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from psycopg2 import sql

from pipeline import constants

DEPLOY_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = DEPLOY_DIR.parent
INSTANCE_CONFIG = DEPLOY_DIR / "dagster.yaml"
WORKSPACE = DEPLOY_DIR / "workspace.yaml"
DEFAULT_HOME = PROJECT_ROOT / ".dagster_deploy"
STATE_FILE_NAME = "stack.json"

CODE_LOCATION_MODULE = "pipeline.definitions"
GRPC_HEALTH_SERVICE = "DagsterApi"  # the service name Dagster's code server reports health for
LOCATION_NAME = "flights"
COMPONENTS = ("code-server", "webserver", "daemon")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_GRPC_PORT = 4266
DEFAULT_WEBSERVER_PORT = 3070
# Recorded by `up` so that restart, status and down talk to the same stack: the PostgreSQL
# connection without its password, and the code location's folders and files (every *_DIR and
# *_PATH variable of pipeline/constants.py). Secrets are never written down: DAGSTER_PG_PASSWORD
# and webhook URLs come from the environment every time.
RECORDED_ENVIRONMENT = (
    "DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_DB",
    *sorted(
        value
        for name, value in vars(constants).items()
        if name.endswith("_ENV") and value.endswith(("_DIR", "_PATH"))
    ),
)  # fmt: skip
POSTGRES_DEFAULTS = {
    "DAGSTER_PG_HOST": "127.0.0.1",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_USER": "postgres",
    "DAGSTER_PG_PASSWORD": "",
    "DAGSTER_PG_DB": "dagster",
}

WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

DAEMON_HEALTH_QUERY = """
query DaemonHealth {
  instance {
    daemonHealth {
      allDaemonStatuses { daemonType required healthy lastHeartbeatTime }
    }
  }
}
"""


class StackError(RuntimeError):
    """The stack could not be started, checked or stopped; the message says which part and why."""


@dataclass(frozen=True)
class Settings:
    home: Path
    host: str = DEFAULT_HOST
    grpc_port: int = DEFAULT_GRPC_PORT
    webserver_port: int = DEFAULT_WEBSERVER_PORT
    read_only: bool = False
    startup_timeout: float = 180.0
    stop_grace: float = 20.0

    @property
    def state_file(self) -> Path:
        return self.home / STATE_FILE_NAME

    @property
    def log_dir(self) -> Path:
        # Not "logs": Dagster's telemetry uploader takes $DAGSTER_HOME/logs away to send it.
        return self.home / "process-logs"

    @property
    def webserver_url(self) -> str:
        return f"http://{self.host}:{self.webserver_port}"

    def to_json(self) -> dict:
        return {
            "host": self.host,
            "grpc_port": self.grpc_port,
            "webserver_port": self.webserver_port,
            "read_only": self.read_only,
        }


# --- processes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    ppid: int
    pgid: int
    state: str
    start_ticks: int


def read_process(pid: int) -> ProcessInfo | None:
    """The kernel's view of ``pid`` (from /proc), or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may itself contain spaces or parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    return ProcessInfo(
        pid=pid,
        state=fields[0],
        ppid=int(fields[1]),
        pgid=int(fields[2]),
        start_ticks=int(fields[19]),
    )


def all_processes() -> list[ProcessInfo]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (info := read_process(int(entry.name))) is not None:
            found.append(info)
    return found


def process_family(root_pid: int, pgid: int) -> set[int]:
    """``root_pid``, its descendants (run workers, step processes) and its process group."""
    processes = all_processes()
    children: dict[int, list[int]] = {}
    for info in processes:
        children.setdefault(info.ppid, []).append(info.pid)
    family: set[int] = set()
    pending = [root_pid, *(info.pid for info in processes if info.pgid == pgid)]
    while pending:
        pid = pending.pop()
        if pid not in family:
            family.add(pid)
            pending.extend(children.get(pid, []))
    return {pid for pid in family if is_alive(pid)}


def is_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie counts as gone (and is reaped if it is our child)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    info = read_process(pid)
    return info is not None and info.state not in ("Z", "X")


def is_listening(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


def _signal_all(pids: Iterable[int], pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def terminate(family: set[int], pgid: int, grace: float) -> None:
    """SIGTERM ``family`` and process group ``pgid``; SIGKILL whatever is left after ``grace`` s."""
    if not family:
        return
    _signal_all(family, pgid, signal.SIGTERM)
    if _wait_until(lambda: not any(is_alive(pid) for pid in family), grace):
        return
    _signal_all(family, pgid, signal.SIGKILL)
    if not _wait_until(lambda: not any(is_alive(pid) for pid in family), 10.0):
        survivors = sorted(pid for pid in family if is_alive(pid))
        raise StackError(f"Processes {survivors} survived SIGKILL.")


def _wait_until(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


@contextmanager
def default_interrupt_handling() -> Iterator[None]:
    """Children must inherit default SIGINT handling.

    A process started in the background of a non-interactive shell has SIGINT ignored, an ignored
    disposition survives exec, and Dagster's servers map SIGTERM onto their SIGINT handler: such a
    child would ignore both signals. A handled (not ignored) signal is reset to default by exec.
    """
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if previous == signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous)


# --- the stack -------------------------------------------------------------------------------


def _executable(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise StackError(f"{name} is not installed in this environment: pip install -e .")
    return found


class Stack:
    """Start, check and stop the three processes; their pids are kept in ``<home>/stack.json``."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None):
        self.settings = settings
        base = dict(os.environ if environ is None else environ)
        for key, default in POSTGRES_DEFAULTS.items():
            base.setdefault(key, default)
        self.env = {
            **base,
            # Dagster's webserver and daemon otherwise run a thread that uploads whatever lies in
            # $DAGSTER_HOME/logs to its telemetry endpoint, whatever dagster.yaml says.
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "DAGSTER_HOME": str(settings.home),
            "DAGSTER_GRPC_HOST": settings.host,
            "DAGSTER_GRPC_PORT": str(settings.grpc_port),
        }

    # commands --------------------------------------------------------------------------------

    def command(self, component: str) -> list[str]:
        s = self.settings
        if component == "code-server":
            return [
                _executable("dagster"), "api", "grpc",
                "--module-name", CODE_LOCATION_MODULE,
                "--location-name", LOCATION_NAME,
                "--host", s.host, "--port", str(s.grpc_port),
            ]  # fmt: skip
        if component == "webserver":
            read_only = ["--read-only"] if s.read_only else []
            return [
                _executable("dagster-webserver"),
                "--workspace", str(WORKSPACE),
                "--host", s.host, "--port", str(s.webserver_port),
                *read_only,
            ]  # fmt: skip
        if component == "daemon":
            return [_executable("dagster-daemon"), "run", "--workspace", str(WORKSPACE)]
        raise StackError(f"Unknown component {component!r}; expected one of {', '.join(COMPONENTS)}.")

    # state -----------------------------------------------------------------------------------

    def read_state(self) -> dict:
        try:
            return json.loads(self.settings.state_file.read_text())
        except FileNotFoundError:
            return {"settings": self.settings.to_json(), "processes": {}}

    def _write_state(self, state: dict) -> None:
        partial = self.settings.state_file.with_suffix(".json.part")
        partial.write_text(json.dumps(state, indent=2))
        partial.replace(self.settings.state_file)

    def running_pid(self, component: str) -> int | None:
        """The recorded pid of ``component`` if that very process still runs (not a reused pid)."""
        record = self.read_state()["processes"].get(component)
        if record is None:
            return None
        info = read_process(record["pid"])
        if info is None or info.start_ticks != record["start_ticks"] or not is_alive(record["pid"]):
            return None
        return record["pid"]

    # lifecycle -------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the instance folder and the PostgreSQL database if they do not exist yet."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.settings.log_dir.mkdir(exist_ok=True)
        shutil.copyfile(INSTANCE_CONFIG, self.settings.home / "dagster.yaml")
        ensure_database(self.env)

    def up(self) -> None:
        running = [c for c in COMPONENTS if self.running_pid(c)]
        if running:
            raise StackError(
                f"Already running: {', '.join(running)} (home {self.settings.home}); "
                "run `down` first or use `restart`."
            )
        self.prepare()
        self._write_state(
            {
                "settings": self.settings.to_json(),
                "environment": {k: self.env[k] for k in RECORDED_ENVIRONMENT if k in self.env},
                "processes": {},
            }
        )
        # In order: the webserver creates the storage schema and reports the daemon's health.
        try:
            for component in COMPONENTS:
                self.start(component)
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        for component in reversed(COMPONENTS):
            self.stop(component)

    def restart(self, component: str) -> None:
        self.stop(component)
        self.start(component)
        if component == "code-server" and self.running_pid("webserver"):
            self.reload_location()

    def start(self, component: str) -> int:
        for port in self._ports(component):
            if is_listening(self.settings.host, port):
                raise StackError(
                    f"Cannot start {component}: {self.settings.host}:{port} is already in use."
                )
        log_path = self.settings.log_dir / f"{component}.log"
        with open(log_path, "ab") as log, default_interrupt_handling():
            process = subprocess.Popen(
                self.command(component),
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started_at = time.time()
        info = read_process(process.pid)
        state = self.read_state()
        state["processes"][component] = {
            "pid": process.pid,
            "pgid": process.pid,
            "start_ticks": info.start_ticks if info else 0,
            "started_at": started_at,
            "command": self.command(component),
            "log": str(log_path),
        }
        self._write_state(state)
        self.wait_healthy(component, started_at)
        return process.pid

    def stop(self, component: str) -> None:
        """SIGTERM the process, its group and its descendants; SIGKILL what is left after the grace."""
        state = self.read_state()
        record = state["processes"].get(component)
        if record is None:
            return
        terminate(self.family(component), record["pgid"], self.settings.stop_grace)
        for port in self._ports(component):
            if not _wait_until(lambda: not is_listening(self.settings.host, port), 10.0):
                raise StackError(
                    f"{component} is stopped but {self.settings.host}:{port} still accepts "
                    "connections: another process holds the port."
                )
        state["processes"].pop(component, None)
        self._write_state(state)

    def family(self, component: str) -> set[int]:
        """Live processes of ``component``: the server, its process group and its descendants.

        If the server itself died, what is left of its group (a run worker, say) still counts;
        processes younger than the server cannot have been recycled into its group.
        """
        record = self.read_state()["processes"].get(component)
        if record is None:
            return set()
        if self.running_pid(component):
            return process_family(record["pid"], record["pgid"])
        return {
            info.pid
            for info in all_processes()
            if info.pgid == record["pgid"]
            and info.start_ticks >= record["start_ticks"]
            and is_alive(info.pid)
        }

    def _ports(self, component: str) -> list[int]:
        return {
            "code-server": [self.settings.grpc_port],
            "webserver": [self.settings.webserver_port],
        }.get(component, [])

    # health ----------------------------------------------------------------------------------

    def wait_healthy(self, component: str, started_at: float) -> None:
        check = {
            "code-server": self.code_server_healthy,
            "webserver": self.webserver_healthy,
            "daemon": lambda: self.daemon_healthy(since=started_at),
        }[component]
        deadline = time.monotonic() + self.settings.startup_timeout
        problem = "no answer yet"
        while time.monotonic() < deadline:
            if not self.running_pid(component):
                raise StackError(
                    f"{component} exited during startup. Last lines of its log:\n"
                    + self.log_tail(component)
                )
            healthy, problem = check()
            if healthy:
                return
            time.sleep(0.5)
        raise StackError(
            f"{component} was not healthy after {self.settings.startup_timeout:.0f} s ({problem}). "
            "Last lines of its log:\n" + self.log_tail(component)
        )

    def code_server_healthy(self) -> tuple[bool, str]:
        """The gRPC health protocol, as ``dagster api grpc-health-check`` asks it (no process per poll)."""
        target = f"{self.settings.host}:{self.settings.grpc_port}"
        try:
            with grpc.insecure_channel(target) as channel:
                response = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=GRPC_HEALTH_SERVICE), timeout=10
                )
        except grpc.RpcError as error:
            return False, f"{target}: {error.code().name}"
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        return status == "SERVING", f"{target}: {status}"

    def webserver_healthy(self) -> tuple[bool, str]:
        try:
            with urllib.request.urlopen(f"{self.settings.webserver_url}/server_info", timeout=5) as r:
                if r.status != 200:
                    return False, f"/server_info answered {r.status}"
            workspace = self.graphql(WORKSPACE_QUERY)["workspaceOrError"]
        except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout) as error:
            return False, str(error)
        if workspace["__typename"] != "Workspace":
            return False, workspace.get("message", workspace["__typename"])
        entries = {entry["name"]: entry for entry in workspace["locationEntries"]}
        entry = entries.get(LOCATION_NAME)
        if entry is None:
            return False, f"location {LOCATION_NAME} not in the workspace"
        location = entry["locationOrLoadError"] or {}
        if entry["loadStatus"] != "LOADED" or location.get("__typename") != "RepositoryLocation":
            return False, f"location {LOCATION_NAME}: {entry['loadStatus']} {location.get('message', '')}"
        return True, "location loaded"

    def daemon_healthy(self, since: float = 0.0) -> tuple[bool, str]:
        """Every required daemon has sent a heartbeat since ``since`` (so not a predecessor's)."""
        try:
            statuses = self.graphql(DAEMON_HEALTH_QUERY)["instance"]["daemonHealth"][
                "allDaemonStatuses"
            ]
        except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout) as error:
            return False, f"webserver unreachable to read daemon health: {error}"
        waiting = [
            s["daemonType"]
            for s in statuses
            if s["required"] and not (s["healthy"] and (s["lastHeartbeatTime"] or 0) >= since)
        ]
        return not waiting, f"waiting for heartbeats of {', '.join(waiting)}" if waiting else "ok"

    def reload_location(self) -> None:
        """Make the webserver reconnect to a restarted code server now.

        The webserver also notices a new server by itself (it watches the gRPC server); a
        read-only webserver refuses the reload mutation and is left to do that.
        """
        if self.settings.read_only:
            self.wait_healthy("webserver", time.time())
            return
        result = self.graphql(
            """
            mutation Reload($name: String!) {
              reloadRepositoryLocation(repositoryLocationName: $name) {
                __typename
                ... on WorkspaceLocationEntry { loadStatus }
                ... on PythonError { message }
              }
            }
            """,
            {"name": LOCATION_NAME},
        )["reloadRepositoryLocation"]
        if result["__typename"] != "WorkspaceLocationEntry":
            raise StackError(f"Reloading location {LOCATION_NAME} failed: {result}")
        self.wait_healthy("webserver", time.time())

    def graphql(self, query: str, variables: Mapping | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.settings.webserver_url}/graphql",
            data=json.dumps({"query": query, "variables": dict(variables or {})}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise StackError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def log_tail(self, component: str, lines: int = 30) -> str:
        path = self.settings.log_dir / f"{component}.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def status(self) -> dict[str, str]:
        report = {}
        for component in COMPONENTS:
            pid = self.running_pid(component)
            if pid is None:
                report[component] = "stopped"
                continue
            check = {
                "code-server": self.code_server_healthy,
                "webserver": self.webserver_healthy,
                "daemon": self.daemon_healthy,
            }[component]
            healthy, detail = check()
            report[component] = f"pid {pid}, {'healthy' if healthy else 'unhealthy'}: {detail}"
        return report


def ensure_database(env: Mapping[str, str]) -> None:
    """Create the instance's PostgreSQL database unless it exists."""
    name = env["DAGSTER_PG_DB"]
    try:
        conn = psycopg2.connect(
            host=env["DAGSTER_PG_HOST"],
            port=env["DAGSTER_PG_PORT"],
            user=env["DAGSTER_PG_USER"],
            password=env["DAGSTER_PG_PASSWORD"],
            dbname="postgres",
        )
    except psycopg2.OperationalError as error:
        raise StackError(
            f"Cannot reach PostgreSQL at {env['DAGSTER_PG_HOST']}:{env['DAGSTER_PG_PORT']} as "
            f"{env['DAGSTER_PG_USER']}: {error}".strip()
        ) from error
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def _recorded_stack(args: argparse.Namespace) -> Stack:
    """Commands after ``up`` reuse the ports, host and environment that ``up`` recorded."""
    state_file = args.home / STATE_FILE_NAME
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    recorded = state.get("settings", {})
    settings = Settings(
        home=args.home,
        host=recorded.get("host", args.host),
        grpc_port=recorded.get("grpc_port", args.grpc_port),
        webserver_port=recorded.get("webserver_port", args.webserver_port),
        read_only=recorded.get("read_only", args.read_only),
    )
    return Stack(settings, {**os.environ, **state.get("environment", {})})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status", "restart"])
    parser.add_argument("components", nargs="*", metavar="component",
                        help=f"for restart: any of {', '.join(COMPONENTS)} (default all)")  # fmt: skip
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="instance folder")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address the servers bind to")
    parser.add_argument("--grpc-port", type=int, default=DEFAULT_GRPC_PORT)
    parser.add_argument("--webserver-port", type=int, default=DEFAULT_WEBSERVER_PORT)
    parser.add_argument("--read-only", action="store_true", help="webserver cannot launch or change anything")
    args = parser.parse_args(argv)
    args.home = args.home.resolve()
    unknown = [c for c in args.components if c not in COMPONENTS]
    if unknown or (args.components and args.action != "restart"):
        parser.error(f"components ({', '.join(COMPONENTS)}) are given to restart only")

    if args.action == "up":
        settings = Settings(args.home, args.host, args.grpc_port, args.webserver_port, args.read_only)
        stack = Stack(settings)
    else:
        stack = _recorded_stack(args)
        settings = stack.settings
    try:
        if args.action == "up":
            stack.up()
            print(f"Dagster UI: {settings.webserver_url}  (instance {settings.home})")
        elif args.action == "down":
            stack.down()
            print("stopped")
        elif args.action == "restart":
            for component in args.components or COMPONENTS:
                stack.restart(component)
                print(f"restarted {component}")
        for component, line in stack.status().items():
            print(f"{component:12} {line}")
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
