"""The production topology on this machine: code server, two webservers and daemon on PostgreSQL.

Separate processes, as in the compose file and the Helm chart:

- ``dagster api grpc -m pipeline.definitions``: the code location, served over gRPC;
- ``dagster-webserver -w deploy/workspace.yaml``: the UI and GraphQL API for operators;
- ``dagster-webserver --read-only`` on the same instance (``viewer``): for everyone else;
- ``dagster-daemon run -w deploy/workspace.yaml``: schedules, sensors, the run queue, monitoring;
- with ``WAREHOUSE_BACKEND=ducklake``: ``--workers`` Celery workers (default 2) that execute the
  runs, launched as Celery tasks on ``DAGSTER_CELERY_BROKER_URL`` (deploy/dagster-celery.yaml).

Usage (from the repository root, with the project's virtualenv)::

    python -m deploy.stack up                  # start; returns when every part is healthy
    python -m deploy.stack status
    python -m deploy.stack restart code-server # or webserver, viewer, daemon, worker-1 … (default: all)
    python -m deploy.stack down                # stop; nothing is left running or listening

The instance lives in ``--home`` (default ``.dagster_deploy/``): a copy of deploy/dagster.yaml,
the processes' logs and the state file. PostgreSQL settings come from DAGSTER_PG_HOST, _PORT,
_USER, _PASSWORD and _DB (defaults: 127.0.0.1, 5432, postgres, empty, dagster); the database is
created if it does not exist. Servers bind to 127.0.0.1 unless ``--host`` says otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping

from deploy import StackError, health, postgres, processes
from deploy.topology import (
    CELERY_CONFIG_MODULE,
    CELERY_DEFAULTS,
    LOCATION_NAME,
    PROJECT_ROOT,
    RECORDED_ENVIRONMENT,
    Settings,
    check,
    command,
    components,
    distributed,
    environment,
    instance_config,
    ports,
)


class Stack:
    """Start, check and stop the three processes; their pids are kept in ``<home>/stack.json``."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None):
        self.settings = settings
        base = dict(os.environ if environ is None else environ)
        for key, default in postgres.DEFAULTS.items():
            base.setdefault(key, default)
        if distributed(base):
            for key, default in CELERY_DEFAULTS.items():
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
        self.components = components(settings, self.env)

    def command(self, component: str) -> list[str]:
        return command(component, self.settings, self.env)

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
        """The recorded pid of ``component`` if that very process still runs (deploy/identity.py)."""
        record = self.read_state()["processes"].get(component)
        if record is None:
            return None
        process = processes.find(record["pid"], record.get("create_time"), record.get("cmdline"))
        return None if process is None else process.pid

    def family(self, component: str) -> set:
        """Live processes of ``component`` (psutil.Process): the server, its group, descendants.

        If the server itself died, what is left of its group (a run worker, say) still counts.
        """
        record = self.read_state()["processes"].get(component)
        if record is None:
            return set()
        return processes.family(record["pid"], record.get("create_time"), record.get("cmdline"))

    # lifecycle -------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the instance folder and the PostgreSQL database if they do not exist yet."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.settings.log_dir.mkdir(exist_ok=True)
        (self.settings.home / "dagster.yaml").write_text(instance_config(self.env, self.settings.workers))
        if distributed(self.env):
            (self.settings.home / "celery").mkdir(exist_ok=True)
            (self.settings.home / "celery" / "dagster_celery_config.py").write_text(CELERY_CONFIG_MODULE)
        postgres.ensure_database(self.env)

    def up(self) -> None:
        running = [c for c in self.components if self.running_pid(c)]
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
        try:
            for component in self.components:
                self.start(component)
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        for component in reversed(self.components):
            self.stop(component)

    def restart(self, component: str) -> None:
        self.stop(component)
        self.start(component)
        if component == "code-server" and self.running_pid("webserver"):
            # The webserver notices a new code server by itself, in time; a read-only one
            # refuses the reload mutation and is left to do that.
            if not self.settings.read_only:
                health.reload_location(self.settings.webserver_url, LOCATION_NAME)
            self.wait_healthy("webserver", time.time())
        if component == "code-server" and self.running_pid("viewer"):
            # Read-only: it picks up the new code server through its own watcher.
            self.wait_healthy("viewer", time.time())

    def start(self, component: str) -> int:
        for port in ports(component, self.settings):
            if processes.is_listening(self.settings.host, port):
                raise StackError(f"Cannot start {component}: {self.settings.host}:{port} is already in use.")
        log_path = self.settings.log_dir / f"{component}.log"
        env = environment(component, self.settings, self.env)
        process = processes.start(self.command(component), log=log_path, cwd=PROJECT_ROOT, env=env)
        started_at = time.time()
        state = self.read_state()
        state["processes"][component] = {
            "pid": process.pid,
            "create_time": process.create_time,
            "cmdline": process.cmdline,
            "started_at": started_at,
            "command": process.args,
            "log": str(log_path),
        }
        self._write_state(state)
        self.wait_healthy(component, started_at)
        return process.pid

    def stop(self, component: str) -> None:
        """SIGTERM the server, its group and its descendants; SIGKILL what is left after the grace."""
        state = self.read_state()
        if component not in state["processes"]:
            return
        try:
            processes.stop_family(
                self.family(component),
                grace=self.settings.stop_grace,
                host=self.settings.host,
                ports=ports(component, self.settings),
            )
        except processes.ProcessError as error:
            raise StackError(f"Stopping {component}: {error}") from error
        state["processes"].pop(component, None)
        self._write_state(state)

    # health ----------------------------------------------------------------------------------

    def check(self, component: str, since: float = 0.0) -> tuple[bool, str]:
        return check(component, self.settings, since, self.env)

    def wait_healthy(self, component: str, started_at: float) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout
        problem = "no answer yet"
        while time.monotonic() < deadline:
            if not self.running_pid(component):
                raise StackError(
                    f"{component} exited during startup. Last lines of its log:\n" + self.log_tail(component)
                )
            healthy, problem = self.check(component, since=started_at)
            if healthy:
                return
            time.sleep(0.5)
        raise StackError(
            f"{component} was not healthy after {self.settings.startup_timeout:.0f} s ({problem}). "
            "Last lines of its log:\n" + self.log_tail(component)
        )

    def graphql(self, query: str, variables: Mapping | None = None) -> dict:
        return health.graphql(self.settings.webserver_url, query, variables)

    def log_tail(self, component: str, lines: int = 30) -> str:
        path = self.settings.log_dir / f"{component}.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def status(self) -> dict[str, str]:
        report = {}
        for component in self.components:
            pid = self.running_pid(component)
            if pid is None:
                report[component] = "stopped"
                continue
            healthy, detail = self.check(component)
            report[component] = f"pid {pid}, {'healthy' if healthy else 'unhealthy'}: {detail}"
        return report


if __name__ == "__main__":
    from deploy.stack_cli import main

    sys.exit(main())
