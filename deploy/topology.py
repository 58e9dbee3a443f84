"""What the stack is made of: three components, the settings they run with, and for each its
command line, its ports and its health check. ``deploy.stack`` starts and stops them.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from deploy import StackError, health, postgres
from deploy.processes import LOOPBACK
from pipeline import constants

DEPLOY_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = DEPLOY_DIR.parent
INSTANCE_CONFIG = DEPLOY_DIR / "dagster.yaml"
WORKSPACE = DEPLOY_DIR / "workspace.yaml"
DEFAULT_HOME = PROJECT_ROOT / ".dagster_deploy"
STATE_FILE_NAME = "stack.json"

CODE_LOCATION_MODULE = "pipeline.definitions"
LOCATION_NAME = "flights"
# In starting order: the webserver creates the storage schema and reports the daemon's health.
COMPONENTS = ("code-server", "webserver", "daemon")

DEFAULT_HOST = LOOPBACK
DEFAULT_GRPC_PORT = 4266
DEFAULT_WEBSERVER_PORT = 3070
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
)


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


def executable(name: str) -> str:
    """A console script of this environment: beside the running Python first, then on PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise StackError(f"{name} is not installed in this environment: pip install -e .")
    return found


def command(component: str, s: Settings) -> list[str]:
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
    if component == "daemon":
        # The daemon listens on nothing; it finds the code server through the workspace file.
        return [executable("dagster-daemon"), "run", "--workspace", str(WORKSPACE)]
    raise StackError(f"Unknown component {component!r}; expected one of {', '.join(COMPONENTS)}.")


def ports(component: str, s: Settings) -> list[int]:
    """The ports ``component`` listens on: in use before it starts, free after it stops."""
    return {"code-server": [s.grpc_port], "webserver": [s.webserver_port]}.get(component, [])


def check(component: str, s: Settings, since: float = 0.0) -> tuple[bool, str]:
    """``(healthy, detail)`` of ``component``; the daemon counts heartbeats after ``since``."""
    if component == "code-server":
        return health.code_server(s.host, s.grpc_port)
    if component == "webserver":
        return health.webserver(s.webserver_url, LOCATION_NAME)
    return health.daemon(s.webserver_url, since)
