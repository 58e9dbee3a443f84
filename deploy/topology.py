"""What the stack is made of: its components, the settings they run with, and for each its
command line, its ports and its health check. ``deploy.stack`` starts and stops them.

Always: the code server, two webservers on the one instance (``webserver`` for operators,
``viewer`` read-only for everyone else) and the daemon. With ``WAREHOUSE_BACKEND=ducklake`` the
instance launches each run as a Celery task (``CeleryRunLauncher``, deploy/dagster-celery.yaml)
and the stack starts the Celery workers that execute them (``worker-1`` … ``worker-N``): runs can
execute on any machine that reaches the broker, the lake's catalog and its data path. The DuckDB
file admits one process, so the file backend keeps the default launcher: runs are subprocesses of
the code server, beside the file.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy import StackError, health, postgres
from deploy.processes import LOOPBACK
from pipeline import constants

DEPLOY_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = DEPLOY_DIR.parent
INSTANCE_CONFIG = DEPLOY_DIR / "dagster.yaml"
# What the instance changes when runs execute on Celery workers (merged over INSTANCE_CONFIG).
DISTRIBUTED_INSTANCE_CONFIG = DEPLOY_DIR / "dagster-celery.yaml"
WORKSPACE = DEPLOY_DIR / "workspace.yaml"
DEFAULT_HOME = PROJECT_ROOT / ".dagster_deploy"
STATE_FILE_NAME = "stack.json"

CODE_LOCATION_MODULE = "pipeline.definitions"
LOCATION_NAME = "flights"
# In starting order: the webserver creates the storage schema and reports the daemon's health.
# Celery workers (distributed runs only) start after the viewer, before the daemon.
COMPONENTS = ("code-server", "webserver", "viewer", "daemon")
CELERY_APP = "dagster_celery.app"
# Read by deploy/dagster-celery.yaml and the workers. The queue keeps stacks that share a broker
# apart: a worker takes only its own stack's runs.
CELERY_DEFAULTS = {
    "DAGSTER_CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "DAGSTER_CELERY_BACKEND_URL": "redis://127.0.0.1:6379/0",
    "DAGSTER_CELERY_QUEUE": "flights",
}
CELERY_CONFIG_MODULE = """# Written by deploy.stack; read by every Celery worker (dagster_celery.app imports it).
import os

broker_url = os.environ["DAGSTER_CELERY_BROKER_URL"]
result_backend = os.environ["DAGSTER_CELERY_BACKEND_URL"]
task_default_queue = os.environ["DAGSTER_CELERY_QUEUE"]
# A worker takes a run only when its one process is free (acknowledged on completion, one at a
# time): acknowledged on receipt, a busy worker reserved the next run while another sat idle.
task_acks_late = True
worker_prefetch_multiplier = 1
"""

DEFAULT_HOST = LOOPBACK
DEFAULT_GRPC_PORT = 4266
DEFAULT_WEBSERVER_PORT = 3070
DEFAULT_VIEWER_PORT = 3071
DEFAULT_WORKERS = 2
# Recorded by `up` so that restart, status and down talk to the same stack: the PostgreSQL
# connection without its password, and the code location's folders and files (every *_DIR and
# *_PATH variable of pipeline/constants.py). Secrets are never written down: DAGSTER_PG_PASSWORD
# and webhook URLs come from the environment every time.
RECORDED_ENVIRONMENT = (
    *postgres.RECORDABLE,
    *sorted(
        value
        for name, value in vars(constants).items()
        if name.endswith("_ENV") and value.endswith(("_DIR", "_PATH"))
    ),
    constants.WAREHOUSE_BACKEND_ENV,
    constants.DUCKLAKE_CATALOG_ENV,  # refused if it holds a password (PGPASSWORD holds that)
    "DAGSTER_CELERY_QUEUE",
)


@dataclass(frozen=True)
class Settings:
    home: Path
    host: str = DEFAULT_HOST
    grpc_port: int = DEFAULT_GRPC_PORT
    webserver_port: int = DEFAULT_WEBSERVER_PORT
    read_only: bool = False
    viewer_port: int = DEFAULT_VIEWER_PORT
    workers: int = DEFAULT_WORKERS
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

    @property
    def viewer_url(self) -> str:
        return f"http://{self.host}:{self.viewer_port}"

    def to_json(self) -> dict:
        return {
            "host": self.host,
            "grpc_port": self.grpc_port,
            "webserver_port": self.webserver_port,
            "read_only": self.read_only,
            "viewer_port": self.viewer_port,
            "workers": self.workers,
        }


def executable(name: str) -> str:
    """A console script of this environment: beside the running Python first, then on PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise StackError(f"{name} is not installed in this environment: pip install -e .")
    return found


def celery_setting(name: str, env: Mapping[str, str] | None = None) -> str:
    return (os.environ if env is None else env).get(name) or CELERY_DEFAULTS[name]


def command(component: str, s: Settings, env: Mapping[str, str] | None = None) -> list[str]:
    if component == "code-server":
        return [
            executable("dagster"), "api", "grpc",
            "--module-name", CODE_LOCATION_MODULE,
            "--location-name", LOCATION_NAME,
            "--host", s.host, "--port", str(s.grpc_port),
        ]  # fmt: skip
    if component == "webserver":
        read_only = ["--read-only"] if s.read_only else []
        return [
            executable("dagster-webserver"),
            "--workspace", str(WORKSPACE),
            "--host", s.host, "--port", str(s.webserver_port),
            *read_only,
        ]  # fmt: skip
    if component == "viewer":
        return [
            executable("dagster-webserver"),
            "--workspace", str(WORKSPACE),
            "--host", s.host, "--port", str(s.viewer_port),
            "--read-only",
        ]  # fmt: skip
    if component.startswith("worker-"):
        # One process per worker (-c 1): a run is one task; N workers run N runs at once.
        return [
            executable("celery"), "-A", CELERY_APP, "worker",
            "--queues", celery_setting("DAGSTER_CELERY_QUEUE", env),
            "--concurrency", "1", "--prefetch-multiplier", "1",
            "--hostname", worker_name(component, env),
            "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        ]  # fmt: skip
    if component == "daemon":
        # The daemon listens on nothing; it finds the code server through the workspace file.
        return [executable("dagster-daemon"), "run", "--workspace", str(WORKSPACE)]
    raise StackError(f"Unknown component {component!r}; expected one of {', '.join(COMPONENTS)}.")


def distributed(env) -> bool:
    """Runs execute on Celery workers: the DuckLake backend (the file admits one process)."""
    return env.get(constants.WAREHOUSE_BACKEND_ENV, "").strip().lower() == "ducklake"


def components(s: Settings, env) -> tuple[str, ...]:
    """The stack's components in starting order, with ``s.workers`` Celery workers if distributed."""
    workers = tuple(f"worker-{n}" for n in range(1, s.workers + 1)) if distributed(env) else ()
    return (*COMPONENTS[:-1], *workers, COMPONENTS[-1])


def worker_name(component: str, env: Mapping[str, str] | None = None) -> str:
    """The Celery node name: the stack's queue, the component and this host."""
    return f"{celery_setting('DAGSTER_CELERY_QUEUE', env)}-{component}@{socket.gethostname()}"


def ports(component: str, s: Settings) -> list[int]:
    """The ports ``component`` listens on: in use before it starts, free after it stops."""
    return {"code-server": [s.grpc_port], "webserver": [s.webserver_port], "viewer": [s.viewer_port]}.get(
        component, []
    )


def check(
    component: str, s: Settings, since: float = 0.0, env: Mapping[str, str] | None = None
) -> tuple[bool, str]:
    """``(healthy, detail)`` of ``component``; the daemon counts heartbeats after ``since``."""
    if component == "code-server":
        return health.code_server(s.host, s.grpc_port)
    if component == "webserver":
        return health.webserver(s.webserver_url, LOCATION_NAME)
    if component == "viewer":
        return health.webserver(s.viewer_url, LOCATION_NAME)
    if component.startswith("worker-"):
        broker = celery_setting("DAGSTER_CELERY_BROKER_URL", env)
        return health.celery_worker(broker, worker_name(component, env))
    return health.daemon(s.webserver_url, since)


def environment(component: str, s: Settings, env: Mapping[str, str]) -> dict[str, str]:
    """The component's environment: a worker also finds its Celery settings module."""
    if not component.startswith("worker-"):
        return dict(env)
    path = os.pathsep.join(filter(None, [str(s.home / "celery"), env.get("PYTHONPATH")]))
    return {**{k: celery_setting(k, env) for k in CELERY_DEFAULTS}, **env, "PYTHONPATH": path}


def instance_config(env: Mapping[str, str], workers: int = DEFAULT_WORKERS) -> str:
    """The instance's dagster.yaml: deploy/dagster.yaml, with the Celery launcher if distributed.

    Distributed, as many runs go at once as the ``workers`` run (one each, ``-c 1``): the rest
    wait QUEUED in Dagster's queue. Sent on, they would wait in the broker's queue as STARTING,
    and run monitoring fails a run still STARTING after ``start_timeout_seconds``.
    """
    import yaml

    config = yaml.safe_load(INSTANCE_CONFIG.read_text())
    if distributed(env):
        config = _merged(config, yaml.safe_load(DISTRIBUTED_INSTANCE_CONFIG.read_text()))
        config = _merged(config, {"concurrency": {"runs": {"max_concurrent_runs": workers}}})
    return yaml.safe_dump(config, sort_keys=False)


def _merged(base: dict, override: dict) -> dict:
    """``base`` with ``override``'s settings, section by section (nested mappings merged)."""
    merged = dict(base)
    for key, value in override.items():
        both_mappings = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = _merged(merged[key], value) if both_mappings else value
    return merged
