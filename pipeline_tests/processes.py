"""Test-only glue over ``deploy.processes``: what the tests start, and the environment it runs in.

Every process here starts through ``deploy.processes.start`` (its own session, default signal
handling) and is stopped by ``deploy.processes.stop`` (SIGTERM, a grace period, SIGKILL, then
nothing of its family alive and its ports free): the same harness as ``python -m deploy.stack``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from deploy import local_instance, processes
from pipeline import constants

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DAGSTER = str(BIN / "dagster")
DAGSTER_DAEMON = str(BIN / "dagster-daemon")
CODE_LOCATION_MODULE = "pipeline.definitions"


def code_location_environment(root: Path, **paths: Path) -> dict[str, str]:
    """Every folder and file setting of pipeline/constants.py (``*_DIR``, ``*_PATH``) under ``root``.

    Each is named as its default under data/ (REPORT_DIR -> ``<root>/reports``, WAREHOUSE_PATH ->
    ``<root>/warehouse.duckdb``), or after the variable if it has none (ARCHIVE_DIR ->
    ``<root>/archive``); ``paths`` overrides by variable name.
    """
    environment = {}
    for name, variable in vars(constants).items():
        if name.endswith("_ENV") and variable.endswith(("_DIR", "_PATH")):
            default = getattr(constants, f"DEFAULT_{variable}", None)
            own_name = variable.rsplit("_", 1)[0].lower()
            environment[variable] = str(root / (default.name if default is not None else own_name))
    return {**environment, **{variable: str(path) for variable, path in paths.items()}}


def server_environment(root: Path, dagster_home: Path | None = None, **paths: Path) -> dict[str, str]:
    """This process's environment, the code location under ``root``, and ``dagster_home``.

    Without the alert webhook: no test posts to a real one.
    """
    environment = {k: v for k, v in os.environ.items() if k != constants.ALERT_WEBHOOK_URL_ENV}
    environment.update(code_location_environment(root, **paths))
    if dagster_home is not None:
        environment["DAGSTER_HOME"] = str(dagster_home)
    return environment


def dagster_home(path: Path, **instance_config) -> Path:
    """A new Dagster instance folder with the project's settings (storage inside it), top-level
    keys replaced."""
    path.mkdir(parents=True)
    return local_instance.write_dagster_home(path, **instance_config)


def start_code_server(env: dict[str, str], port: int, log: Path, cwd: Path) -> subprocess.Popen:
    """``dagster api grpc`` serving the code location on 127.0.0.1:``port``."""
    command = [DAGSTER, "api", "grpc", "-m", CODE_LOCATION_MODULE,
               "--host", processes.LOOPBACK, "--port", str(port)]  # fmt: skip
    return processes.start(command, log=log, cwd=cwd, env=env)


def start_daemon(env: dict[str, str], log: Path, *target: str, cwd: Path = PROJECT_ROOT) -> subprocess.Popen:
    """``dagster-daemon run`` on ``target`` (``-w workspace.yaml``; default the code location module)."""
    command = [DAGSTER_DAEMON, "run", *(target or ("-m", CODE_LOCATION_MODULE))]
    return processes.start(command, log=log, cwd=cwd, env=env)


def wait_for_port(server: subprocess.Popen, port: int, log: Path, timeout: float) -> None:
    """Return once ``server`` listens on ``port``; fail with its log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while not processes.is_listening(processes.LOOPBACK, port):
        assert server.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"the server did not start listening on {port}: {log}"
        time.sleep(0.5)


def start_python(code: str, *args, log: Path | None = None, **options) -> subprocess.Popen:
    """Run ``code`` in a new Python process (its own session); output to ``log`` if given, else
    to text pipes."""
    command = [sys.executable, "-c", code, *map(str, args)]
    if log is None:
        options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options}
    return processes.start(command, log=log, text=True, **options)


def wait_for_line(process: subprocess.Popen, expected: str, timeout: float = 60) -> None:
    """Read the process's stdout until it prints ``expected``; fail if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.strip() == expected:
            return
        if not line and process.poll() is not None:
            raise AssertionError(f"helper exited early: {process.stderr.read()}")
    raise AssertionError(f"helper did not print {expected!r} within {timeout} s")
