"""How the stack on the lake hands runs to its Celery workers (deploy/topology.py), fast.

Runs wait QUEUED in Dagster up to the number of workers, and a worker reserves only the run it
executes: no run waits in the broker behind a busy worker while another is idle, and none sits
STARTING long enough for run monitoring's start timeout (what failed two of six month runs on a
slow machine when the instance let twelve runs go and the workers acknowledged tasks on receipt).
"""

from __future__ import annotations

import runpy

import pytest
import yaml

from deploy import topology
from pipeline import constants

LAKE = {constants.WAREHOUSE_BACKEND_ENV: "ducklake"}


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_runs_beyond_the_celery_workers_wait_queued_in_dagster(workers):
    lake = yaml.safe_load(topology.instance_config(LAKE, workers=workers))
    assert lake["run_launcher"]["class"] == "CeleryRunLauncher"
    assert lake["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert lake["concurrency"]["runs"]["max_concurrent_runs"] == workers


def test_a_run_that_never_starts_fails_within_minutes_not_half_an_hour():
    lake = yaml.safe_load(topology.instance_config(LAKE))
    file = yaml.safe_load(topology.instance_config({}))
    assert 180 <= lake["run_monitoring"]["start_timeout_seconds"] <= 300
    # Only the start timeout differs from the file backend's monitoring.
    rest = {k: v for k, v in lake["run_monitoring"].items() if k != "start_timeout_seconds"}
    assert rest == {k: v for k, v in file["run_monitoring"].items() if k != "start_timeout_seconds"}


def test_the_file_backend_keeps_its_two_runs_and_the_default_launcher():
    local = yaml.safe_load(topology.instance_config({}, workers=3))
    assert local["run_launcher"]["class"] == "DefaultRunLauncher"
    assert local["concurrency"]["runs"]["max_concurrent_runs"] == 2


def test_a_worker_takes_a_run_only_when_its_one_process_is_free(tmp_path, monkeypatch):
    """The settings module the workers import: acknowledged late, one message at a time."""
    for name, value in topology.CELERY_DEFAULTS.items():
        monkeypatch.setenv(name, value)
    module = tmp_path / "dagster_celery_config.py"
    module.write_text(topology.CELERY_CONFIG_MODULE)
    settings = runpy.run_path(str(module))
    assert settings["task_acks_late"] is True
    assert settings["worker_prefetch_multiplier"] == 1
    command = topology.command("worker-1", topology.Settings(home=tmp_path), LAKE)
    assert command[command.index("--concurrency") + 1] == "1"
    assert command[command.index("--prefetch-multiplier") + 1] == "1"
